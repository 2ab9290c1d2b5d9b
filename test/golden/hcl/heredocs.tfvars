plain = <<EOT
first line
  indented line

last line
EOT
flush = <<-EOT
    four spaces
      six spaces

    four again
    EOT
tabs = <<-EOT
		two tabs
			three tabs
	EOT
custom = <<END_OF_POLICY
{"Version": "2012-10-17"} EOT
  END_OF_POLICY
escapes = <<EOT
backslashes stay: \n \t \\ \"
dollars: $${literal} %%{literal} $5
EOT
empty = <<EOT
EOT
in_list = [<<EOT
item
EOT
, "after"]
in_object = {
  doc = <<-DOC
    nested heredoc
    DOC
  next = 1
}
indented_close = <<EOT
text
   EOT
not_the_end = <<EOT
  NOT EOT
EOT followed by text
EOT
