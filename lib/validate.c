/* validate.c — being written */
