/*
 * test_tfvars.c — extraction of application_databases from parsed tfvars documents, in
 * standalone and coupled mode: entries in file order with positions, access_level default,
 * per-member shape errors (reported once, member still returned with its reason to be held),
 * unknown attributes with a "did you mean", whole-document shape errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "base/doc.h"
#include "inputs/tfvars.h"

#define FILE_NAME "envs/dev-rds/terraform.tfvars"

static struct gp_doc *
parse_n(const char *src, size_t len)
{
	struct gp_diags d = {0};
	struct gp_doc *doc = NULL;

	assert_int_equal(gp_hcl_parse(src, len, FILE_NAME, &doc, &d), 0);
	assert_int_equal(d.n, 0);
	return doc;
}

static struct gp_doc *
parse(const char *src)
{
	return parse_n(src, strlen(src));
}

static struct gp_doc *
parse_golden(const char *name)
{
	char path[512], chunk[4096];
	struct gp_buf b = {0};
	struct gp_doc *doc;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/hcl/%s.tfvars", GOLDEN_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		gp_buf_append(&b, chunk, n);
	fclose(f);
	doc = parse_n(b.p, b.len);
	gp_buf_release(&b);
	return doc;
}

/* All diagnostics, formatted, one a line ("" when none). */
static char *
diags_text(const struct gp_diags *d)
{
	struct gp_buf b = {0};

	gp_buf_puts(&b, "");
	for (size_t i = 0; i < d->n; i++) {
		gp_diag_format(&d->v[i], &b);
		gp_buf_putc(&b, '\n');
	}
	return gp_buf_steal(&b);
}

/* expected: the diagnostics, one string each, NULL-terminated. */
static void
assert_diags_v(struct gp_diags *d, const char *const *expected)
{
	struct gp_buf exp = {0};
	char *got = diags_text(d);

	gp_buf_puts(&exp, "");
	for (; *expected; expected++)
		gp_buf_puts(&exp, *expected);
	assert_string_equal(got, exp.p);
	free(got);
	gp_buf_release(&exp);
	gp_diags_release(d);
}
#define assert_diags(d, ...) assert_diags_v(d, (const char *const[]){__VA_ARGS__, NULL})
#define assert_no_diags(d) assert_diags_v(d, (const char *const[]){NULL})

static void
assert_field(const struct gp_field *f, const char *v, unsigned line, unsigned col)
{
	if (!v) {
		assert_null(f->v);
		return;
	}
	assert_non_null(f->v);
	assert_string_equal(f->v, v);
	assert_int_equal(f->line, line);
	assert_int_equal(f->col, col);
}

/* Extracts with the expectation rc; returns the result (NULL on failure). */
static struct gp_tfvars *
extract(const char *src, enum gp_mode mode, int rc, struct gp_diags *d)
{
	struct gp_doc *doc = parse(src);
	struct gp_tfvars *t = NULL;

	assert_int_equal(gp_tfvars_extract(doc, mode, &t, d), rc);
	if (rc < 0)
		assert_null(t);
	else
		assert_non_null(t);
	gp_doc_free(doc);
	return t;
}

#define E(pos, msg) FILE_NAME ":" pos ": error: " msg "\n"

static void
test_standalone(void **state)
{
	struct gp_doc *doc = parse_golden("standalone_dev");
	struct gp_diags d = {0};
	struct gp_tfvars *t = NULL;

	assert_int_equal(gp_tfvars_extract(doc, GP_MODE_STANDALONE, &t, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(t->file, FILE_NAME);
	assert_int_equal(t->mode, GP_MODE_STANDALONE);
	assert_true(t->rds_enabled);
	assert_int_equal(t->n, 4);
	/* File order, not sorted. */
	assert_field(&t->v[0].key, "inventory_service", 59, 3);
	assert_field(&t->v[0].database, "inventory_service", 60, 21);
	assert_field(&t->v[0].username, "inventory_user", 61, 21);
	assert_field(&t->v[0].access, NULL, 0, 0);
	assert_field(&t->v[1].key, "orders", 64, 3);
	assert_field(&t->v[1].access, "owner", 67, 21);
	assert_field(&t->v[2].key, "reporting", 70, 3);
	assert_field(&t->v[2].database, "inventory_service", 70, 35);
	assert_field(&t->v[2].username, "reporting_ro", 70, 67);
	assert_field(&t->v[2].access, "reader", 70, 98);
	assert_field(&t->v[3].key, "order-events", 72, 3);
	assert_field(&t->v[3].access, "editor", 75, 21);
	gp_tfvars_free(t);

	/* The same file read as coupled has no rds_config: disabled, nothing extracted. */
	t = NULL;
	assert_int_equal(gp_tfvars_extract(doc, GP_MODE_COUPLED, &t, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(t->mode, GP_MODE_COUPLED);
	assert_false(t->rds_enabled);
	assert_int_equal(t->n, 0);
	gp_tfvars_free(t);
	gp_doc_free(doc);
}

static void
test_coupled(void **state)
{
	struct gp_doc *doc = parse_golden("coupled_dev");
	struct gp_diags d = {0};
	struct gp_tfvars *t = NULL;

	assert_int_equal(gp_tfvars_extract(doc, GP_MODE_COUPLED, &t, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(t->rds_enabled);
	assert_int_equal(t->n, 3);
	assert_field(&t->v[0].key, "inventory", 30, 5);
	assert_field(&t->v[0].database, "inventory_service", 31, 23);
	assert_field(&t->v[0].username, "inventory_user", 32, 23);
	assert_field(&t->v[0].access, "owner", 33, 23);
	assert_field(&t->v[1].key, "reporting", 35, 5);
	assert_field(&t->v[1].access, "reader", 35, 100);
	assert_field(&t->v[2].key, "payments", 36, 5);
	assert_field(&t->v[2].username, "payments_svc", 38, 23);
	assert_field(&t->v[2].access, NULL, 0, 0);
	gp_tfvars_free(t);

	/* Standalone mode ignores rds_config: no top-level application_databases. */
	t = NULL;
	assert_int_equal(gp_tfvars_extract(doc, GP_MODE_STANDALONE, &t, &d), 0);
	assert_true(t->rds_enabled);
	assert_int_equal(t->n, 0);
	gp_tfvars_free(t);
	gp_doc_free(doc);
}

static void
test_coupled_disabled(void **state)
{
	struct gp_diags d = {0};
	struct gp_tfvars *t;

	/* enabled = false: the entries are not anyone's desired state, and are not read. */
	t = extract("rds_config = {\n  enabled = false\n  application_databases = {\n"
		    "    a = { database_name = \"aaa\", username = \"aaa\" }\n    b = 1\n  }\n}\n",
		    GP_MODE_COUPLED, 0, &d);
	assert_false(t->rds_enabled);
	assert_int_equal(t->n, 0);
	assert_no_diags(&d);
	gp_tfvars_free(t);

	/* enabled missing */
	t = extract("rds_config = { instance_class = \"db.t3.micro\" }", GP_MODE_COUPLED, 0, &d);
	assert_false(t->rds_enabled);
	assert_int_equal(t->n, 0);
	assert_no_diags(&d);
	gp_tfvars_free(t);

	/* enabled = null: unset, as if missing */
	t = extract("rds_config = { enabled = null }", GP_MODE_COUPLED, 0, &d);
	assert_false(t->rds_enabled);
	assert_no_diags(&d);
	gp_tfvars_free(t);

	/* rds_config missing */
	t = extract("environment = \"dev\"", GP_MODE_COUPLED, 0, &d);
	assert_false(t->rds_enabled);
	assert_int_equal(t->n, 0);
	gp_tfvars_free(t);

	/* enabled, without application_databases: enabled and empty */
	t = extract("rds_config = { enabled = true }", GP_MODE_COUPLED, 0, &d);
	assert_true(t->rds_enabled);
	assert_int_equal(t->n, 0);
	gp_tfvars_free(t);
}

static void
test_whole_document_errors(void **state)
{
	struct gp_diags d = {0};

	extract("rds_config = { enabled = \"true\" }", GP_MODE_COUPLED, -EINVAL, &d);
	assert_diags(&d, E("1:26", "rds_config.enabled must be true or false, found string"));
	extract("rds_config = { enabled = 1 }", GP_MODE_COUPLED, -EINVAL, &d);
	assert_diags(&d, E("1:26", "rds_config.enabled must be true or false, found number"));
	extract("rds_config = [true]", GP_MODE_COUPLED, -EINVAL, &d);
	assert_diags(&d, E("1:14", "rds_config must be an object, found list"));
	extract("rds_config = null", GP_MODE_COUPLED, -EINVAL, &d);
	assert_diags(&d, E("1:14", "rds_config must be an object, found null"));
	extract("rds_config = {\n  enabled = true\n  application_databases = [\"a\"]\n}",
		GP_MODE_COUPLED, -EINVAL, &d);
	assert_diags(&d, E("3:27", "rds_config.application_databases must be an object (app key = "
				   "{ database_name, username }), found list"));
	extract("x = 1\napplication_databases = \"inventory\"\n", GP_MODE_STANDALONE, -EINVAL, &d);
	assert_diags(&d, E("2:25", "application_databases must be an object (app key = { "
				   "database_name, username }), found string"));
	extract("application_databases = []", GP_MODE_STANDALONE, -EINVAL, &d);
	assert_diags(&d, E("1:25", "application_databases must be an object (app key = { "
				   "database_name, username }), found list"));
	/* AUTO is the caller's decision, not a shape this function reads. */
	extract("application_databases = {}", GP_MODE_AUTO, -EINVAL, &d);
	assert_no_diags(&d);
}

static void
test_empty(void **state)
{
	struct gp_diags d = {0};
	struct gp_tfvars *t;

	t = extract("application_databases = {}", GP_MODE_STANDALONE, 0, &d);
	assert_int_equal(t->n, 0);
	gp_tfvars_free(t);
	t = extract("", GP_MODE_STANDALONE, 0, &d);
	assert_int_equal(t->n, 0);
	assert_true(t->rds_enabled);
	gp_tfvars_free(t);
	assert_no_diags(&d);
}

static void
test_shape_errors(void **state)
{
	static const char src[] =
		"application_databases = {\n"
		"  good    = { database_name = \"g\", username = \"gu\" }\n"
		"  str     = \"oops\"\n"
		"  num     = { database_name = 5, username = \"nu\", access_level = true }\n"
		"  missing = { username = \"mu\" }\n"
		"  empty   = {}\n"
		"  nulls   = { database_name = \"d\", username = null, access_level = null }\n"
		"  extra   = { database_name = \"e\", username = \"eu\", note = 1, tags = {} }\n"
		"  list    = [\"x\"]\n"
		"}\n";
	struct gp_diags d = {0};
	struct gp_tfvars *t = extract(src, GP_MODE_STANDALONE, 0, &d);

	assert_diags(
		&d,
		E("3:13", "application_databases[\"str\"] must be an object with "
			  "database_name and username, found string"),
		E("4:31", "application_databases[\"num\"].database_name must be a string, "
			  "found number"),
		E("4:66", "application_databases[\"num\"].access_level must be a string, "
			  "found bool"),
		E("5:3", "application_databases[\"missing\"].database_name is missing"),
		E("6:3", "application_databases[\"empty\"].database_name is missing"),
		E("6:3", "application_databases[\"empty\"].username is missing"),
		E("7:47", "application_databases[\"nulls\"].username must be a string, found null"),
		E("8:53", "unknown attribute \"note\" in application_databases[\"extra\"]"),
		E("8:63", "unknown attribute \"tags\" in application_databases[\"extra\"]"),
		E("9:13", "application_databases[\"list\"] must be an object with "
			  "database_name and username, found list"));
	/* Every member is returned, in order, with the fields it has. */
	assert_int_equal(t->n, 8);
	assert_field(&t->v[0].key, "good", 2, 3);
	assert_field(&t->v[0].database, "g", 2, 31);
	assert_field(&t->v[1].key, "str", 3, 3);
	assert_field(&t->v[1].database, NULL, 0, 0);
	assert_field(&t->v[1].username, NULL, 0, 0);
	assert_field(&t->v[2].key, "num", 4, 3);
	assert_field(&t->v[2].database, NULL, 0, 0);
	assert_field(&t->v[2].username, "nu", 4, 45);
	assert_field(&t->v[2].access, NULL, 0, 0);
	assert_field(&t->v[3].database, NULL, 0, 0);
	assert_field(&t->v[3].username, "mu", 5, 26);
	assert_field(&t->v[4].key, "empty", 6, 3);
	assert_field(&t->v[5].database, "d", 7, 31);
	assert_field(&t->v[5].username, NULL, 0, 0);
	assert_field(&t->v[5].access, NULL, 0, 0); /* null: the default */
	assert_field(&t->v[6].key, "extra", 8, 3);
	assert_field(&t->v[6].username, "eu", 8, 47);
	assert_field(&t->v[7].key, "list", 9, 3);
	/* Each bad member keeps its first problem, to be held for; the good one has none. */
	assert_null(t->v[0].invalid);
	assert_string_equal(t->v[2].invalid, "application_databases[\"num\"].database_name "
					     "must be a string, found number");
	assert_true(t->v[2].database.reported);
	assert_true(t->v[2].access.reported);
	assert_false(t->v[2].username.reported);
	assert_string_equal(t->v[6].invalid,
			    "unknown attribute \"note\" in application_databases[\"extra\"]");
	for (size_t i = 1; i < t->n; i++)
		assert_non_null(t->v[i].invalid);
	gp_tfvars_free(t);
}

/*
 * A misspelt attribute is one error, at the misspelling, with the attribute it stands for;
 * that attribute is then not reported missing as well. The diagnostics carry the member's
 * key, and the member keeps the error as its reason to be held.
 */
static void
test_unknown_attribute(void **state)
{
	static const char src[] =
		"rds_config = {\n"
		"  enabled = true\n"
		"  application_databases = {\n"
		"    ledger = {\n"
		"      database_name = \"ledger\"\n"
		"      usernme       = \"ledger_user\"\n"
		"    }\n"
		"    ledger_ro = { database_name = \"ledger\", username = \"ledger_ro\", "
		"acess_level = \"reader\" }\n"
		"    both = { database_name = \"b\", username = \"bu\", usernam = \"x\" }\n"
		"    far = { databse_name = \"f\", username = \"fu\", size = \"small\" }\n"
		"  }\n"
		"}\n";
	struct gp_diags d = {0};
	struct gp_tfvars *t = extract(src, GP_MODE_COUPLED, 0, &d);

	static const char *const keys[] = {"ledger", "ledger_ro", "both", "far", "far"};

	assert_int_equal(d.n, ELEMENTSOF(keys));
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.v[i].key, keys[i]);
	assert_diags(&d,
		     E("6:7", "unknown attribute \"usernme\" in "
			      "rds_config.application_databases[\"ledger\"] (did you mean "
			      "\"username\"?)"),
		     E("8:69", "unknown attribute \"acess_level\" in "
			       "rds_config.application_databases[\"ledger_ro\"] (did you mean "
			       "\"access_level\"?)"),
		     /* username is there: usernam is an error of its own, username is read */
		     E("9:52", "unknown attribute \"usernam\" in "
			       "rds_config.application_databases[\"both\"] (did you mean "
			       "\"username\"?)"),
		     E("10:13", "unknown attribute \"databse_name\" in "
				"rds_config.application_databases[\"far\"] (did you mean "
				"\"database_name\"?)"),
		     /* nothing known is close to size: no hint */
		     E("10:50", "unknown attribute \"size\" in "
				"rds_config.application_databases[\"far\"]"));
	assert_int_equal(t->n, 4);
	assert_field(&t->v[0].database, "ledger", 5, 23);
	assert_field(&t->v[0].username, NULL, 0, 0);
	assert_true(t->v[0].username.reported);
	assert_string_equal(t->v[0].invalid,
			    "unknown attribute \"usernme\" in "
			    "rds_config.application_databases[\"ledger\"] (did you mean "
			    "\"username\"?)");
	/* A misspelt access_level is unknown, never the default owner. */
	assert_field(&t->v[1].access, NULL, 0, 0);
	assert_true(t->v[1].access.reported);
	assert_field(&t->v[2].username, "bu", 9, 46);
	assert_false(t->v[2].username.reported);
	assert_non_null(t->v[2].invalid);
	assert_true(t->v[3].database.reported);
	assert_string_equal(t->v[3].invalid, "unknown attribute \"databse_name\" in "
					     "rds_config.application_databases[\"far\"] (did you "
					     "mean \"database_name\"?)");
	gp_tfvars_free(t);
}

static void
test_keys(void **state)
{
	static const char src[] = "# injected by the workflow, quoted or not\n"
				  "application_databases = {\n"
				  "  bare = { database_name = \"b\", username = \"bu\" },\n"
				  "  \"quoted-key\" = { \"database_name\": \"q\", username: "
				  "\"qu\", access_level = \"editor\" },\n"
				  "  \"x\\\"; DROP ROLE y; --\" = { database_name = \"a;b\", "
				  "username = \"c\\\"d\" }\n"
				  "}\n";
	struct gp_diags d = {0};
	struct gp_tfvars *t = extract(src, GP_MODE_STANDALONE, 0, &d);

	assert_no_diags(&d);
	assert_int_equal(t->n, 3);
	assert_field(&t->v[0].key, "bare", 3, 3);
	assert_field(&t->v[1].key, "quoted-key", 4, 3);
	assert_field(&t->v[1].database, "q", 4, 37);
	assert_field(&t->v[1].username, "qu", 4, 52);
	assert_field(&t->v[1].access, "editor", 4, 73);
	/* Names are not judged here (plan/join.c does): they pass through as written. */
	assert_field(&t->v[2].key, "x\"; DROP ROLE y; --", 5, 3);
	assert_field(&t->v[2].database, "a;b", 5, 46);
	assert_field(&t->v[2].username, "c\"d", 5, 64);
	gp_tfvars_free(t);
}

static void
test_message_keys_are_one_line(void **state)
{
	struct gp_diags d = {0};
	struct gp_tfvars *t =
		extract("application_databases = { \"a\\nb\" = 1 }", GP_MODE_STANDALONE, 0, &d);

	assert_diags(&d, E("1:36", "application_databases[\"a\\x0ab\"] must be an object with "
				   "database_name and username, found number"));
	assert_string_equal(t->v[0].key.v, "a\nb");
	gp_tfvars_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standalone),
		cmocka_unit_test(test_coupled),
		cmocka_unit_test(test_coupled_disabled),
		cmocka_unit_test(test_whole_document_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_shape_errors),
		cmocka_unit_test(test_unknown_attribute),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_message_keys_are_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
