// Every construct the parser accepts, once.
s_plain   = "hello"
s_escapes = "tab\there\nnl \"q\" back\\slash cr\r"
s_unicode = "caf\u00e9 \U0001F600 déjà"
s_dollar  = "cost: $5, $$5, 100%, $${not_a_template}, %%{not_a_directive}"
s_empty   = ""
n_int     = 42
n_zero    = 0
n_dec     = 3.14159
n_exp     = 1e10
n_exp2    = 6.02E+23
n_neg     = -7
n_negexp  = -1.5e-3
n_spaced  = - 12
b_true    = true
b_false   = false
nothing   = null
l_empty   = []
l_one     = [1]
l_mixed   = ["a", 1, true, null, [], {}]
l_lines = [
  "x",

  "y", /* inline comment */
  "z",
]
l_nested = [[1, 2], [3, [4, [5]]]]
o_empty  = {}
o_inline = { a = 1, b = "two", "c" = [3] }
o_colon  = { a: 1, "b": 2 }
o_mixed_separators = {
  a = 1,
  b = 2
  c = 3,

  d = 4 }
o_keywords = { true = 1, null = 2, for = 3, if = 4 }
o_trailing = { a = 1, }
o_nested = {
  level1 = {
    level2 = {
      level3 = ["deep"]
    }
  }
}
hyphen-name_1 = "identifiers may hold hyphens"
