/* pass.c — being written */
