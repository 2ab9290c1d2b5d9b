/* aws_creds.c — being written */
