# Golden path cluster — test (coupled: EKS and RDS in one Terraform root)

cluster_name = "goldenpath-test"
environment  = "test"
region       = "eu-west-2"

eks_config = {
  version        = "1.29"
  node_count     = 3
  instance_types = ["t3.large", "t3a.large"]
}

rds_config = {
  enabled           = true
  instance_class    = "db.t3.small"
  allocated_storage = 20
  // application_databases is maintained by the request workflow
  application_databases = {
    search_index = {
      database_name = "search_index"
      username      = "search_user"
      access_level  = "owner"
    }
    search_reader = { database_name = "search_index", username = "search_ro", access_level = "reader" }

    notifications = {
      database_name = "notifications"
      username      = "notify_user"
    }
    "notifications-dispatcher" = {
      database_name = "notifications"
      username      = "notify_dispatch"
      access_level  = "editor"
    }
  }
  backup_window = "02:00-03:00"
}

tags = {
  Environment = "test"
  ManagedBy   = "terraform"
}
