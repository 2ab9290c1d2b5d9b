# Platform RDS (standalone bounded context) — dev
#
# Owned by platform-team. Entries under application_databases are added by the
# "Request Platform RDS Database" workflow; everything else is edited by hand.

aws_region  = "eu-west-2"
environment = "dev"
build_id    = "26-02-10-01"

/*
 * Instance settings. Terraform uses these; gprdsd ignores them.
 */
rds_instance = {
  identifier        = "goldenpath-dev-platform"
  instance_class    = "db.t3.medium"
  allocated_storage = 50
  multi_az          = false
  engine_version    = "15.5"
  tags = {
    CostCenter = "platform"
    "team:owner" = "platform-team"
  }
}

allowed_cidr_blocks = ["10.10.0.0/16", "10.20.0.0/16",]

application_databases = {
  // inventory: the service owns its database; reporting reads it.
  inventory_service = {
    database_name = "inventory_service"
    username      = "inventory_user"
    access_level  = "owner"
  },
  "inventory_reporting" = { database_name = "inventory_service", username = "reporting_ro", access_level = "reader" },

  orders_service = {
    database_name = "orders_service"
    username      = "orders_user" # access_level defaults to owner
  }
  orders_worker = {
    database_name = "orders_service",
    username      = "orders_worker",
    access_level  = "editor", /* the async worker writes, never migrates */
  },

  # Large tier: catalog carries approved_by: platform-team.
  payments_ledger = {
    username      = "ledger_user"
    database_name = "payments_ledger"
  },

  # Request RDS-0002 (risk high): waits for security-team's approval.
  fraud_signals = { database_name = "fraud_signals", username = "fraud_user" },
}

deletion_protection   = true
backup_retention_days = 7
performance_insights  = null

maintenance_note = <<-EOT
  Maintenance window: Sunday 03:00-04:00 UTC.
  Ask in #platform-oncall before changing "rds_instance".
EOT
