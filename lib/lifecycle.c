/* lifecycle.c — being written */
