/* audit_file.c — being written */
