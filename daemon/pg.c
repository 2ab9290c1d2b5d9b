/* pg.c — being written */
