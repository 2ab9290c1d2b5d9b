/* sql.c — being written */
