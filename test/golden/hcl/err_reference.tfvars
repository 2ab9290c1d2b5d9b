application_databases = {
  inventory = {
    database_name = var.inventory_db_name
    username      = "inventory_user"
  }
}
