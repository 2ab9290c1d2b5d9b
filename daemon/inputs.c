/* inputs.c — being written */
