/* hcl.c — being written */
