environment = "dev"
description = <<-EOT
  This heredoc's closing marker is misspelled.
  ETO
tags = {}
