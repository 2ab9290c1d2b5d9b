/*
 * test_catalog.c — rds-catalog.yaml extraction (unit cases and golden files under
 * test/golden/catalog: NAME.yaml → NAME.out, regenerated with GPRDSD_UPDATE_GOLDEN=1) and the
 * enum lists (built-in, overridden by enums.yaml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "golden.h"

#include <dirent.h>
#include <stdio.h>

#include "base/doc.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"
#include "model/state.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must be defined by the build"
#endif

static const struct {
	const char *name;
	size_t offset;
} fields[] = {
	{"metadata.id", offsetof(struct gp_catalog_entry, id)},
	{"metadata.owner", offsetof(struct gp_catalog_entry, owner)},
	{"metadata.requested_by", offsetof(struct gp_catalog_entry, requested_by)},
	{"metadata.domain", offsetof(struct gp_catalog_entry, domain)},
	{"metadata.risk", offsetof(struct gp_catalog_entry, risk)},
	{"metadata.environment", offsetof(struct gp_catalog_entry, environment)},
	{"metadata.status", offsetof(struct gp_catalog_entry, status)},
	{"metadata.created_date", offsetof(struct gp_catalog_entry, created_date)},
	{"metadata.approved_by", offsetof(struct gp_catalog_entry, approved_by)},
	{"metadata.decommission_confirm", offsetof(struct gp_catalog_entry, decommission_confirm)},
	{"configuration.username", offsetof(struct gp_catalog_entry, username)},
	{"configuration.size_tier", offsetof(struct gp_catalog_entry, size_tier)},
	{"configuration.instance_class", offsetof(struct gp_catalog_entry, instance_class)},
	{"configuration.secret_path", offsetof(struct gp_catalog_entry, secret_path)},
};

static const struct gp_field *
field(const struct gp_catalog_entry *e, size_t i)
{
	return (const struct gp_field *)((const char *)e + fields[i].offset);
}

static void
dump_field(struct gp_buf *out, const char *indent, const char *name, const struct gp_field *f)
{
	if (f->v)
		gp_buf_printf(out, "%s%s = \"%s\"  @%u:%u\n", indent, name, f->v, f->line, f->col);
	else
		gp_buf_printf(out, "%s%s = -%s\n", indent, name, f->reported ? " (reported)" : "");
}

/*
 * The canonical dump: the return value, the version, each entry with every field (absent
 * ones as "-", "(reported)" when why was reported) and its position and its reason to be
 * held, then every diagnostic with its key.
 */
static void
dump_catalog(struct gp_buf *out, int r, const struct gp_catalog *c, const struct gp_diags *d)
{
	gp_buf_printf(out, "result = %s\n", r == 0 ? "0" : r == -EINVAL ? "-EINVAL" : "?");
	if (c) {
		gp_buf_printf(out, "file = %s\n", c->file);
		dump_field(out, "", "version", &c->version);
		for (size_t i = 0; i < c->n; i++) {
			gp_buf_printf(out, "[%zu] %s  @%u:%u\n", i, c->v[i].database.v,
				      c->v[i].database.line, c->v[i].database.col);
			for (size_t j = 0; j < ELEMENTSOF(fields); j++)
				dump_field(out, "    ", fields[j].name, field(&c->v[i], j));
			if (c->v[i].invalid)
				gp_buf_printf(out, "    invalid: %s\n", c->v[i].invalid);
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		gp_diag_format(&d->v[i], out);
		gp_buf_printf(out, "  [key %s]\n", d->v[i].key ? d->v[i].key : "-");
	}
}

struct extracted {
	struct gp_doc *doc;
	struct gp_catalog *cat;
	struct gp_diags diags;
	int r;
};

static void
extract(struct extracted *x, const char *buf, size_t len, const char *name)
{
	*x = (struct extracted){0};
	x->r = gp_yaml_parse(buf, len, name, &x->doc, &x->diags);
	if (x->r == 0)
		x->r = gp_catalog_extract(x->doc, &x->cat, &x->diags);
}

static void
extract_done(struct extracted *x)
{
	gp_catalog_free(x->cat);
	gp_doc_free(x->doc);
	gp_diags_release(&x->diags);
}

static const char *
first_error(const struct gp_diags *d, struct gp_buf *b)
{
	b->len = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].severity == GP_SEV_ERROR) {
			gp_diag_format(&d->v[i], b);
			return b->p;
		}
	}
	return "";
}

static const char full_entry[] =
	"version: \"1.0\"\n"
	"databases:\n"
	"  inventory_service:\n"
	"    metadata:\n"
	"      id: DATABASE_INVENTORY_SERVICE\n"
	"      owner: app-team\n"
	"      requested_by: daniel-deans\n"
	"      domain: catalog\n"
	"      risk: medium            # none | low | medium | high | access\n"
	"      environment: dev\n"
	"      status: pending\n"
	"      created_date: \"2026-01-15\"\n"
	"      approved_by: platform-team\n"
	"      decommission_confirm: inventory_service\n"
	"      ticket: OPS-1234\n"
	"    configuration:\n"
	"      username: inventory_user\n"
	"      size_tier: small\n"
	"      instance_class: db.t3.micro\n"
	"      secret_path: goldenpath/dev/inventory_service/postgres\n"
	"      backup: { retention: 7 }\n"
	"    tags: [a, b]\n";

static void
test_full_entry(void **state)
{
	struct extracted x;
	const struct gp_catalog_entry *e;

	extract(&x, full_entry, strlen(full_entry), "rds-catalog.yaml");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.diags.n, 0);
	assert_string_equal(x.cat->file, "rds-catalog.yaml");
	assert_string_equal(x.cat->version.v, "1.0");
	assert_int_equal(x.cat->n, 1);
	e = &x.cat->v[0];
	assert_string_equal(e->database.v, "inventory_service");
	assert_int_equal(e->database.line, 3);
	assert_int_equal(e->database.col, 3);
	assert_string_equal(e->id.v, "DATABASE_INVENTORY_SERVICE");
	assert_string_equal(e->owner.v, "app-team");
	assert_string_equal(e->requested_by.v, "daniel-deans");
	assert_string_equal(e->domain.v, "catalog");
	assert_string_equal(e->risk.v, "medium");
	assert_int_equal(e->risk.line, 9);
	assert_int_equal(e->risk.col, 13);
	assert_string_equal(e->environment.v, "dev");
	assert_string_equal(e->status.v, "pending");
	assert_string_equal(e->created_date.v, "2026-01-15");
	assert_string_equal(e->approved_by.v, "platform-team");
	assert_string_equal(e->decommission_confirm.v, "inventory_service");
	assert_string_equal(e->username.v, "inventory_user");
	assert_string_equal(e->size_tier.v, "small");
	assert_string_equal(e->instance_class.v, "db.t3.micro");
	assert_string_equal(e->secret_path.v, "goldenpath/dev/inventory_service/postgres");
	assert_int_equal(e->secret_path.line, 20);
	extract_done(&x);
}

static void
test_nulls_and_order(void **state)
{
	static const char y[] = "databases:\n"
				"  zeta_db:\n"
				"    metadata: { approved_by: ~, risk: \"\", owner: null }\n"
				"  alpha_db: {}\n"
				"  mid_db:\n"
				"    metadata:\n"
				"    configuration:\n";
	struct extracted x;

	extract(&x, y, sizeof(y) - 1, "c.yaml");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.diags.n, 0);
	assert_null(x.cat->version.v);
	assert_int_equal(x.cat->n, 3);
	/* File order, not sorted. */
	assert_string_equal(x.cat->v[0].database.v, "zeta_db");
	assert_string_equal(x.cat->v[1].database.v, "alpha_db");
	assert_string_equal(x.cat->v[2].database.v, "mid_db");
	/* A plain null is no value; a quoted empty string is a (bad) value for validation. */
	assert_null(x.cat->v[0].approved_by.v);
	assert_null(x.cat->v[0].owner.v);
	assert_string_equal(x.cat->v[0].risk.v, "");
	assert_null(x.cat->v[2].id.v);
	extract_done(&x);
}

static void
test_shape_errors(void **state)
{
	static const char y[] = "databases:\n"
				"  good_db:\n"
				"    metadata: { risk: [high], status: active }\n"
				"    configuration: [username]\n"
				"  scalar_db: yes\n"
				"  last_db:\n"
				"    metadata:\n"
				"      owner:\n"
				"        name: x\n";
	struct extracted x;
	struct gp_buf b = {0};

	extract(&x, y, sizeof(y) - 1, "c.yaml");
	assert_int_equal(x.r, 0); /* the file as a whole is usable */
	assert_int_equal(x.diags.errors, 4);
	assert_string_equal(first_error(&x.diags, &b),
			    "c.yaml:3:23: error: metadata.risk of database \"good_db\" must be a "
			    "scalar, not a list");
	b.len = 0;
	gp_diag_format(&x.diags.v[1], &b);
	assert_string_equal(b.p, "c.yaml:4:20: error: configuration of database \"good_db\" must "
				 "be a mapping, not a list");
	b.len = 0;
	gp_diag_format(&x.diags.v[2], &b);
	assert_string_equal(b.p, "c.yaml:5:14: error: database \"scalar_db\": expected a mapping "
				 "with metadata and configuration, not a scalar");
	b.len = 0;
	gp_diag_format(&x.diags.v[3], &b);
	assert_string_equal(b.p, "c.yaml:9:9: error: metadata.owner of database \"last_db\" must "
				 "be a scalar, not a mapping");
	/* The entry that is not a mapping is skipped; the others keep the fields they have. */
	assert_int_equal(x.cat->n, 2);
	assert_string_equal(x.cat->v[0].database.v, "good_db");
	assert_null(x.cat->v[0].risk.v);
	assert_string_equal(x.cat->v[0].status.v, "active");
	assert_string_equal(x.cat->v[1].database.v, "last_db");
	assert_null(x.cat->v[1].owner.v);
	gp_buf_release(&b);
	extract_done(&x);
}

static void
test_whole_file_errors(void **state)
{
	static const struct {
		const char *yaml;
		const char *error;
	} cases[] = {
		{"version: \"1.0\"\n", "c.yaml:1:1: error: no \"databases\" key in the catalog"},
		{"version: \"1.0\"\ndatabases:\n",
		 "c.yaml:2:11: error: \"databases\" must be a mapping of database names, not a "
		 "null (write `databases: {}` for none)"},
		{"databases: [a, b]\n", "c.yaml:1:12: error: \"databases\" must be a mapping of "
					"database names, not a list"},
		{"- a\n", "c.yaml:1:1: error: expected a mapping with version and databases, not a "
			  "list"},
		{"# nothing\n", "c.yaml: error: the catalog is empty"},
	};
	struct gp_buf b = {0};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct extracted x;

		extract(&x, cases[i].yaml, strlen(cases[i].yaml), "c.yaml");
		assert_int_equal(x.r, -EINVAL);
		assert_null(x.cat);
		assert_string_equal(first_error(&x.diags, &b), cases[i].error);
		extract_done(&x);
	}
	gp_buf_release(&b);
}

static void
test_empty_databases(void **state)
{
	struct extracted x;

	extract(&x, "version: \"1.0\"\ndatabases: {}\n", 29, "c.yaml");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.cat->n, 0);
	extract_done(&x);
	gp_catalog_free(NULL);
}

/* ---------------------------------------------------------------------------------------
 * Golden files
 */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
check_golden(const char *dir, const char *name, bool update)
{
	char in[4096], out[4096];
	struct extracted x;
	struct gp_buf got = {0};
	size_t len, n = strlen(name);
	char *buf, *want;

	snprintf(in, sizeof(in), "%s/%s", dir, name);
	snprintf(out, sizeof(out), "%s/%.*s.out", dir, (int)(n - 5), name);
	buf = test_read_file(in, &len);
	assert_non_null(buf);
	extract(&x, buf, len, name);
	dump_catalog(&got, x.r, x.cat, &x.diags);
	if (update) {
		FILE *f = fopen(out, "wb");

		assert_non_null(f);
		fwrite(got.p, 1, got.len, f);
		fclose(f);
	}
	want = test_read_file(out, &len);
	if (!want)
		fail_msg("%s: missing; run with GPRDSD_UPDATE_GOLDEN=1", out);
	if (strcmp(want, got.p) != 0)
		fail_msg("%s differs from the output:\n%s", out, got.p);
	free(want);
	free(buf);
	gp_buf_release(&got);
	extract_done(&x);
}

static void
test_golden(void **state)
{
	const char *dir = GOLDEN_DIR "/catalog";
	bool update = getenv("GPRDSD_UPDATE_GOLDEN") && *getenv("GPRDSD_UPDATE_GOLDEN") == '1';
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256];
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && n < ELEMENTSOF(names)) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	assert_true(n >= 3);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		check_golden(dir, names[i], update);
		free(names[i]);
	}
}

/* ---------------------------------------------------------------------------------------
 * Enums
 */

static void
assert_list(const struct gp_strv *sv, const char *want)
{
	struct gp_buf b = {0};

	for (size_t i = 0; i < sv->n; i++)
		gp_buf_printf(&b, "%s%s", i ? "," : "", sv->v[i]);
	gp_buf_putc(&b, '\0');
	assert_string_equal(b.p, want);
	gp_buf_release(&b);
}

static void
test_enums_default(void **state)
{
	struct gp_enums e;

	assert_int_equal(gp_enums_init_default(&e), 0);
	assert_list(&e.environments, "dev,test,staging,prod,ephemeral");
	assert_list(&e.owners, "");
	assert_list(&e.domains, "");
	assert_list(&e.risks, "none,low,medium,high,access");
	assert_list(&e.sizes, "small,medium,large,xlarge");
	assert_list(&e.statuses,
		    "pending,approved,provisioning,active,failed,decommissioning,decommissioned");
	assert_false(e.from_file);
	/* The built-in lists agree with the model's enums. */
	for (size_t i = 0; i < e.risks.n; i++)
		assert_int_equal(gp_risk_from_string(e.risks.v[i]), (int)i);
	for (size_t i = 0; i < e.sizes.n; i++)
		assert_int_equal(gp_size_from_string(e.sizes.v[i]), (int)i);
	for (size_t i = 0; i < e.statuses.n; i++)
		assert_int_equal(gp_state_from_string(e.statuses.v[i]), (int)i);
	gp_enums_release(&e);
}

struct enums_run {
	struct gp_doc *doc;
	struct gp_diags diags;
	struct gp_enums e;
	int r;
};

static void
enums_parse(struct enums_run *x, const char *y)
{
	*x = (struct enums_run){0};
	assert_int_equal(gp_yaml_parse(y, strlen(y), "enums.yaml", &x->doc, &x->diags), 0);
	assert_int_equal(gp_enums_init_default(&x->e), 0);
	x->r = gp_enums_extract(x->doc, &x->e, &x->diags);
}

static void
enums_done(struct enums_run *x)
{
	gp_enums_release(&x->e);
	gp_doc_free(x->doc);
	gp_diags_release(&x->diags);
}

static void
test_enums_file(void **state)
{
	struct enums_run x;

	/* Both forms, nested rds keys, unrelated keys, and keys missing (domains). */
	enums_parse(&x, "environments: [dev, prod]\n"
			"owners:\n"
			"  description: teams that approve\n"
			"  values: [app-team, platform-team, app-team]\n"
			"risk_profile_security_risk:\n"
			"  values: [none, low, medium, high, access]\n"
			"rds:\n"
			"  engines: { values: [postgres] }\n"
			"  instance_sizes:\n"
			"    values: [small, medium]\n"
			"lifecycle: [draft, active]\n");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.diags.n, 0);
	assert_true(x.e.from_file);
	assert_list(&x.e.environments, "dev,prod");
	assert_list(&x.e.owners, "app-team,platform-team");
	assert_list(&x.e.domains, "");
	assert_list(&x.e.risks, "none,low,medium,high,access");
	assert_list(&x.e.sizes, "small,medium");
	assert_list(&x.e.statuses,
		    "pending,approved,provisioning,active,failed,decommissioning,decommissioned");
	enums_done(&x);

	/* request_status as a plain list; an empty file keeps everything built in. */
	enums_parse(&x, "rds: { request_status: [pending, active] }\n");
	assert_int_equal(x.r, 0);
	assert_list(&x.e.statuses, "pending,active");
	assert_list(&x.e.sizes, "small,medium,large,xlarge");
	enums_done(&x);
	enums_parse(&x, "");
	assert_int_equal(x.r, 0);
	assert_true(x.e.from_file);
	assert_list(&x.e.environments, "dev,test,staging,prod,ephemeral");
	enums_done(&x);
}

static void
test_enums_errors(void **state)
{
	struct enums_run x;
	struct gp_buf b = {0};

	enums_parse(&x, "environments: dev\nowners: [a, {b: c}]\n");
	assert_int_equal(x.r, -EINVAL);
	assert_int_equal(x.diags.errors, 2);
	assert_string_equal(first_error(&x.diags, &b),
			    "enums.yaml:1:15: error: environments must be a list of values or a "
			    "mapping with a \"values\" list");
	b.len = 0;
	gp_diag_format(&x.diags.v[1], &b);
	assert_string_equal(b.p, "enums.yaml:2:13: error: owners values must be non-empty strings");
	/* On error the lists are left as they were (the defaults here). */
	assert_false(x.e.from_file);
	assert_list(&x.e.owners, "");
	enums_done(&x);

	/* A value gprdsd cannot act on is accepted with a warning. */
	enums_parse(&x, "risk_profile_security_risk: [low, critical]\n");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.diags.errors, 0);
	assert_int_equal(x.diags.n, 1);
	b.len = 0;
	gp_diag_format(&x.diags.v[0], &b);
	assert_string_equal(b.p, "enums.yaml:1:35: warning: risk \"critical\" is not known to "
				 "gprdsd; entries that use it will be rejected");
	assert_list(&x.e.risks, "low,critical");
	enums_done(&x);

	enums_parse(&x, "[a]\n");
	assert_int_equal(x.r, -EINVAL);
	enums_done(&x);
	gp_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_entry),
		cmocka_unit_test(test_nulls_and_order),
		cmocka_unit_test(test_shape_errors),
		cmocka_unit_test(test_whole_file_errors),
		cmocka_unit_test(test_empty_databases),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_enums_default),
		cmocka_unit_test(test_enums_file),
		cmocka_unit_test(test_enums_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
