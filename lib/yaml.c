/* yaml.c — being written */
