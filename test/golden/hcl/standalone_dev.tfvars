# envs/dev-rds/terraform.tfvars
# Shared PostgreSQL instance for the dev environment.
# Managed by the platform team; application_databases is appended to by the
# "request database" workflow. Do not reorder entries by hand.

aws_region   = "eu-west-2"
environment  = "dev"
project_name = "goldenpath"

/*
 * Instance sizing. db.t3.micro is enough for dev; bump to db.t3.small
 * if the reporting jobs start timing out again.
 */
instance_class        = "db.t3.micro"
allocated_storage     = 20
max_allocated_storage = 100
engine_version        = "15.4"
multi_az              = false
backup_retention_days = 7
deletion_protection   = false
skip_final_snapshot   = true
performance_insights  = null

// Networking (VPC from the core stack)
vpc_id             = "vpc-0a1b2c3d4e5f67890"
private_subnet_ids = [
  "subnet-0123456789abcdef0",
  "subnet-0fedcba9876543210",
  "subnet-0a0b0c0d0e0f01234", # added for eu-west-2c
]
allowed_cidr_blocks = ["10.20.0.0/16", "10.30.0.0/16"]

parameter_group = {
  family = "postgres15"
  parameters = [
    { name = "log_min_duration_statement", value = "500" },
    { name = "log_statement", value = "ddl", apply_method = "pending-reboot" },
    { name = "rds.force_ssl", value = "1" },
  ]
}

description = <<-EOT
  Shared dev database instance for goldenpath applications.
  Each application gets its own database, role and secret:
    goldenpath/dev/<app>/postgres
  Costs are charged to the platform team.
EOT

tags = {
  Owner       = "platform-team"
  CostCenter  = "PLAT-001"
  "ManagedBy" = "terraform"
  Environment = "dev"
}

application_databases = {
  # ... existing databases ...

  inventory_service = {
    database_name = "inventory_service"
    username      = "inventory_user"
  }

  orders = {
    database_name = "orders"
    username      = "orders_app"
    access_level  = "owner"
  },

  "reporting" = { database_name = "inventory_service", username = "reporting_ro", access_level = "reader" }

  "order-events" = {
    database_name = "orders"
    username      = "order_events_rw"
    access_level  = "editor" // writes outbox rows
  }
}

monitoring_thresholds = {
  cpu_percent        = 80.5
  free_storage_bytes = 2e9
  connections        = 150
  replica_lag        = -1
}
