name   = "db-${var.environment}"
policy = <<EOT
{"Resource": "arn:aws:s3:::%{ if true }bucket%{ endif }"}
EOT
bad    = "\q and \u12 and \uD800"
