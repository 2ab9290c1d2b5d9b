application_databases = {
  inventory = { database_name = "a", username = "b" }
  "inventory" = { database_name = "c", username = "d" }
  orders = { database_name = "o", username = "o", username = "p" }
}
tags = {}
application_databases = {}
