/* enums.c — being written */
