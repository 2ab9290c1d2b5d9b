# envs/dev/terraform.tfvars — the whole dev environment in one file.

environment = "dev"
region      = "eu-west-2"

eks_config = {
  enabled         = true
  cluster_version = "1.29"
  node_groups = {
    general = { instance_types = ["t3.large"], min_size = 2, max_size = 6, desired_size = 3 }
    spot = {
      instance_types = ["t3.large", "t3a.large"]
      capacity_type  = "SPOT"
      min_size       = 0
      max_size       = 10
      labels         = { "workload-class" = "batch" }
    }
  }
}

rds_config = {
  enabled               = true
  instance_class        = "db.t3.micro"
  engine_version        = "15.4"
  allocated_storage     = 20
  multi_az              = false
  backup_window         = "03:00-04:00"
  maintenance_window    = "sun:04:30-sun:05:30"
  application_databases = {
    inventory = {
      database_name = "inventory_service"
      username      = "inventory_user"
      access_level  = "owner" # optional: owner | editor | reader, default owner
    },
    "reporting" = { database_name = "inventory_service", username = "reporting_ro", access_level = "reader" }
    payments = {
      database_name = "payments"
      username      = "payments_svc"
    }
  }
}

tags = {
  Environment = "dev"
  Terraform   = "true"
}
