/* audit.c — being written */
