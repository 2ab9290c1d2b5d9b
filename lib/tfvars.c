/* tfvars.c — being written */
