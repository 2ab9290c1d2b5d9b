# written on Windows
app = {
  a = "x"
  b = [
    1,
    2,
  ]
  c = <<-EOT
    crlf heredoc
    second
  EOT
}
last = true // comment
