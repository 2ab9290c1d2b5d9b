/*
 * fuzz_secret — the JSON of an application secret and of the master secret (codec/secret.c),
 * read as the daemon reads what Secrets Manager holds: check it against what it should say,
 * take its password and username, render the corrected value over it (which must then check
 * as exactly right and carry the new password), and parse it as a master secret. The input's
 * bytes also drive the password generator as its random source.
 */
#include "fuzz.h"

#include <ctype.h>
#include <errno.h>

#include "codec/secret.h"

#define NEW_PASSWORD "Fz0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT"

static char *alias_v[] = {"postgres-password", "DB_PASSWORD"};
static const struct gp_strv aliases = {.v = alias_v, .n = ELEMENTSOF(alias_v)};

static const struct gp_secret_want full = {
	.username = "inventory_user",
	.host = "db.example.com",
	.port = "5432",
	.dbname = "inventory_service",
	.aliases = &aliases,
};
/* Only the password and engine are managed: every other key is left as it is. */
static const struct gp_secret_want bare = {0};

static void
read_secret(const char *json)
{
	_cleanup_secret_ char *pw = NULL;
	_cleanup_free_ char *user = NULL, *problem = NULL;
	int r;

	r = gp_secret_check(json, &full, &problem);
	FUZZ_CHECK(r == -ENOMEM || r == 0 || r == 1 || r == -EINVAL);
	FUZZ_CHECK(r == -ENOMEM || (r == 0) == (problem == NULL));
	r = gp_secret_password(json, &pw);
	FUZZ_CHECK(r < 0 || (pw && *pw));
	(void)gp_secret_username(json, &user);
}

/* What gprdsd writes over any existing value is exactly right, with the password it chose. */
static void
render_over(const char *json, const struct gp_secret_want *want)
{
	_cleanup_secret_ char *pw = NULL;
	_cleanup_free_ char *problem = NULL;
	struct gp_buf out = {0};
	int r;

	r = gp_secret_render(json, want, NEW_PASSWORD, &out);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r == 0) {
		r = gp_secret_check(out.p, want, &problem);
		if (r != 0)
			fprintf(stderr, "rendered value checks as %d: %s\n", r, problem);
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(gp_secret_password(out.p, &pw) == 0 && strcmp(pw, NEW_PASSWORD) == 0);
	}
	gp_buf_release_secure(&out);
}

static void
read_master(const char *json)
{
	struct gp_master m = {0};
	_cleanup_free_ char *problem = NULL;

	if (gp_master_parse(json, &m, &problem) == 0) {
		FUZZ_CHECK(m.host && m.port && m.dbname && !problem);
		FUZZ_CHECK(m.username && *m.username && m.password && *m.password);
	}
	gp_master_release(&m);
}

struct bytes {
	const uint8_t *p;
	size_t n, at;
};

static int
input_random(void *userdata, uint8_t *buf, size_t len)
{
	struct bytes *b = userdata;

	if (b->n == 0)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		buf[i] = b->p[b->at++ % b->n];
	return 0;
}

static void
generate(const uint8_t *data, size_t size)
{
	struct bytes b = {.p = data, .n = size};
	char pw[GP_PASSWORD_LEN + 1];

	if (gp_password_generate(input_random, &b, pw) < 0)
		return;
	FUZZ_CHECK(strlen(pw) == GP_PASSWORD_LEN);
	for (size_t i = 0; i < GP_PASSWORD_LEN; i++)
		FUZZ_CHECK(isalnum((unsigned char)pw[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = fuzz_cstr(data, size);

	if (!json)
		return 0;
	read_secret(json);
	render_over(json, &full);
	render_over(json, &bare);
	read_master(json);
	generate(data, size);
	gp_secret_free_string(json);
	return 0;
}
