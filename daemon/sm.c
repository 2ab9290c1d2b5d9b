/* sm.c — being written */
