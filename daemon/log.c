/* log.c — being written */
