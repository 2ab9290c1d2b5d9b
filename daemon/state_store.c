/* state_store.c — being written */
