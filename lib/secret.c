/* secret.c — being written */
