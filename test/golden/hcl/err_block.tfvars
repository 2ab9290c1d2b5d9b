environment = "dev"

# A main.tf pasted into a tfvars file.
resource "aws_db_instance" "main" {
  engine = "postgres"
}
