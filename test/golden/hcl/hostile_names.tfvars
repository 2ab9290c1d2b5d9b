application_databases = {
  "x\"; DROP TABLE users; --" = {
    database_name = "robert'); DROP TABLE students;--"
    username      = "a;b\"c"
  }
  "key with spaces and $${}" = { database_name = "$${x}", username = "u" }
  "" = { database_name = "", username = "" }
  "ünïcödé" = { database_name = "tab\there", username = "y" }
}
