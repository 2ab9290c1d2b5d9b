/* catalog.c — being written */
