/*
 * secret.c — the secret JSON codec: checks an application secret against what it should hold,
 * extracts its password, renders a corrected value, parses the master secret, and turns random
 * bytes into a password without modulo bias.
 *
 * Deliberately not here: where random bytes come from (the caller passes a gp_random_fn), any
 * talking to Secrets Manager (daemon/sm.c), and any decision about what to do with a secret
 * that is wrong (plan.c). cJSON does not wipe what it frees, so every parse tree that may hold
 * a password is wiped in place before cJSON_Delete(), and rendering prints into a buffer
 * reserved up front instead of letting cJSON grow (and free unwiped) its own.
 */
#include "codec/secret.h"

#include <cjson/cJSON.h>
#include <stdio.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* 248 = 4 * 62: bytes below it map onto the alphabet evenly, the 8 above it are rejected. */
#define ACCEPT_BELOW 248
/* A working CSPRNG needs one or two rounds; this many means the source is broken. */
#define MAX_ROUNDS 64

int
gp_password_generate(gp_random_fn rnd, void *ud, char out[GP_PASSWORD_LEN + 1])
{
	uint8_t pool[GP_PASSWORD_LEN];
	char pw[GP_PASSWORD_LEN + 1];
	size_t n = 0;
	int r = -EIO;

	for (unsigned round = 0; n < GP_PASSWORD_LEN && round < MAX_ROUNDS; round++) {
		size_t want = GP_PASSWORD_LEN - n;

		r = rnd(ud, pool, want);
		if (r != 0) {
			r = r < 0 ? r : -EIO;
			goto out;
		}
		for (size_t i = 0; i < want; i++)
			if (pool[i] < ACCEPT_BELOW)
				pw[n++] = alphabet[pool[i] % (sizeof(alphabet) - 1)];
	}
	if (n < GP_PASSWORD_LEN) {
		r = -EIO;
		goto out;
	}
	pw[n] = '\0';
	memcpy(out, pw, sizeof(pw));
	r = 0;
out:
	explicit_bzero(pool, sizeof(pool));
	explicit_bzero(pw, sizeof(pw));
	return r;
}

void
gp_secret_free_string(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Wipes every string held by item and its children (not its siblings). */
static void
json_wipe(cJSON *item)
{
	if (item->valuestring)
		explicit_bzero(item->valuestring, strlen(item->valuestring));
	for (cJSON *c = item->child; c; c = c->next)
		json_wipe(c);
}

void
gp_secret_json_delete(cJSON *root)
{
	if (!root)
		return;
	json_wipe(root);
	cJSON_Delete(root);
}

static void
json_delete_securep(cJSON **root)
{
	gp_secret_json_delete(*root);
	*root = NULL;
}
#define _cleanup_json_ _cleanup_(json_delete_securep)

/* Parses text that must be exactly one JSON object (no trailing bytes). NULL otherwise. */
static cJSON *
parse_object(const char *json)
{
	cJSON *root;

	if (!json)
		return NULL;
	root = cJSON_ParseWithOpts(json, NULL, true);
	if (root && !cJSON_IsObject(root)) {
		gp_secret_json_delete(root);
		return NULL;
	}
	return root;
}

static void
problem(struct gp_buf *pb, const char *fmt, ...) _printf_(2, 3);

static void
problem(struct gp_buf *pb, const char *fmt, ...)
{
	va_list ap;

	if (pb->len)
		gp_buf_puts(pb, "; ");
	va_start(ap, fmt);
	gp_buf_vprintf(pb, fmt, ap);
	va_end(ap);
}

static unsigned
count_key(const cJSON *obj, const char *key)
{
	unsigned n = 0;

	for (const cJSON *c = obj->child; c; c = c->next)
		if (c->string && strcmp(c->string, key) == 0)
			n++;
	return n;
}

/* The password as a usable string, or NULL with the reason added to pb. */
static const char *
find_password(const cJSON *obj, struct gp_buf *pb)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "password");

	if (!v)
		problem(pb, "missing password");
	else if (!cJSON_IsString(v))
		problem(pb, "password is not a string");
	else if (!*v->valuestring)
		problem(pb, "password is empty");
	else
		return v->valuestring;
	return NULL;
}

/* Checks that key holds the string want (when want is not NULL). Adds key names only. */
static void
check_string(const cJSON *obj, const char *key, const char *want, struct gp_buf *pb)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!want)
		return;
	if (!v)
		problem(pb, "missing %s", key);
	else if (cJSON_IsNumber(v) && strcmp(key, "port") == 0)
		problem(pb, "port is a number");
	else if (!cJSON_IsString(v))
		problem(pb, "%s is not a string", key);
	else if (strcmp(v->valuestring, want) != 0)
		problem(pb, "%s differs", key);
	if (v && count_key(obj, key) > 1)
		problem(pb, "duplicate key %s", key);
}

static void
check_aliases(const cJSON *obj, const struct gp_strv *aliases, const char *password,
	      struct gp_buf *pb)
{
	for (size_t i = 0; aliases && i < aliases->n; i++) {
		const char *key = aliases->v[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

		if (strcmp(key, "password") == 0)
			continue;
		if (!v)
			problem(pb, "missing %s", key);
		else if (!cJSON_IsString(v))
			problem(pb, "%s is not a string", key);
		else if (strcmp(v->valuestring, password) != 0)
			problem(pb, "%s differs from password", key);
		if (v && count_key(obj, key) > 1)
			problem(pb, "duplicate key %s", key);
	}
}

int
gp_secret_check(const char *json, const struct gp_secret_want *want, char **ret_problem)
{
	_cleanup_json_ cJSON *root = parse_object(json);
	_cleanup_(gp_buf_release) struct gp_buf pb = {0};
	const char *password;
	int r;

	if (!root) {
		problem(&pb, "not a JSON object");
		r = -EINVAL;
	} else if (!(password = find_password(root, &pb))) {
		r = -EINVAL;
	} else {
		if (count_key(root, "password") > 1)
			problem(&pb, "duplicate key password");
		check_string(root, "username", want->username, &pb);
		check_string(root, "host", want->host, &pb);
		check_string(root, "port", want->port, &pb);
		check_string(root, "dbname", want->dbname, &pb);
		check_string(root, "engine", "postgres", &pb);
		check_aliases(root, want->aliases, password, &pb);
		r = pb.len ? 1 : 0;
	}
	if (pb.oom)
		return -ENOMEM;
	if (ret_problem)
		*ret_problem = r == 0 ? NULL : gp_buf_steal(&pb);
	return r;
}

int
gp_secret_password(const char *json, char **ret_password)
{
	_cleanup_json_ cJSON *root = parse_object(json);
	_cleanup_(gp_buf_release) struct gp_buf pb = {0};
	const char *password;
	char *copy;

	if (!root)
		return -EINVAL;
	password = find_password(root, &pb);
	if (!password)
		return -EINVAL;
	copy = strdup(password);
	if (!copy)
		return -ENOMEM;
	*ret_password = copy;
	return 0;
}

int
gp_secret_username(const char *json, char **ret_username)
{
	_cleanup_json_ cJSON *root = parse_object(json);
	const cJSON *u = root ? cJSON_GetObjectItemCaseSensitive(root, "username") : NULL;
	char *copy;

	if (!cJSON_IsString(u) || gp_isempty(u->valuestring))
		return -EINVAL;
	copy = strdup(u->valuestring);
	if (!copy)
		return -ENOMEM;
	*ret_username = copy;
	return 0;
}

/*
 * Sets key to the string value in place (first occurrence), removing any later duplicates;
 * appends it when missing. Replaced values are wiped before cJSON frees them.
 */
static int
set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *item, *old, *next;

	if (!value)
		return 0;
	old = cJSON_GetObjectItemCaseSensitive(obj, key);
	for (cJSON *c = old ? old->next : NULL; c; c = next) {
		next = c->next;
		if (c->string && strcmp(c->string, key) == 0)
			gp_secret_json_delete(cJSON_DetachItemViaPointer(obj, c));
	}
	item = cJSON_CreateString(value);
	if (!item)
		return -ENOMEM;
	if (old) {
		json_wipe(old);
		if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item))
			return 0;
	} else if (cJSON_AddItemToObject(obj, key, item)) {
		return 0;
	}
	gp_secret_json_delete(item);
	return -ENOMEM;
}

/* An upper bound of cJSON's compact output for item and its siblings (6 bytes per \u00XX). */
static size_t
print_bound(const cJSON *item)
{
	size_t n = 0;

	for (; item; item = item->next) {
		n += 1 + (item->string ? 6 * strlen(item->string) + 3 : 0);
		if (cJSON_IsString(item))
			n += 6 * strlen(item->valuestring) + 2;
		else if (cJSON_IsRaw(item))
			n += strlen(item->valuestring);
		else if (cJSON_IsArray(item) || cJSON_IsObject(item))
			n += 2 + print_bound(item->child);
		else
			n += 32; /* numbers print in at most 26 bytes, literals in 5 */
	}
	return n;
}

/* Prints root straight into out's reserved space so that no other copy exists. */
int
gp_secret_json_print(const cJSON *root, struct gp_buf *out)
{
	size_t cap = print_bound(root) + 16;
	int r;

	if (cap > INT32_MAX)
		return -E2BIG;
	r = gp_buf_reserve(out, cap);
	if (r < 0)
		return r;
	if (!cJSON_PrintPreallocated((cJSON *)root, out->p + out->len, (int)cap, false))
		return -ENOMEM; /* the bound was wrong: nothing usable was written */
	out->len += strlen(out->p + out->len);
	return 0;
}

static int
render_keys(cJSON *root, const struct gp_secret_want *want, const char *password)
{
	int r = 0;

	r = r ?: set_string(root, "username", want->username);
	r = r ?: set_string(root, "password", password);
	r = r ?: set_string(root, "host", want->host);
	r = r ?: set_string(root, "port", want->port);
	r = r ?: set_string(root, "dbname", want->dbname);
	r = r ?: set_string(root, "engine", "postgres");
	for (size_t i = 0; !r && want->aliases && i < want->aliases->n; i++)
		r = set_string(root, want->aliases->v[i], password);
	return r;
}

int
gp_secret_render(const char *existing_json, const struct gp_secret_want *want,
		 const char *password, struct gp_buf *out)
{
	_cleanup_json_ cJSON *root = NULL;
	int r;

	if (gp_isempty(password))
		return -EINVAL;
	/* A value that is not an object (plain text, an array) holds nothing worth keeping. */
	root = parse_object(existing_json);
	if (!root)
		root = cJSON_CreateObject();
	if (!root)
		return -ENOMEM;
	r = render_keys(root, want, password);
	if (r < 0)
		return r;
	return gp_secret_json_print(root, out);
}

/* Copies a required (or optional, when dflt is set) non-empty string member. */
static int
take_string(const cJSON *obj, const char *key, const char *dflt, char **ret, struct gp_buf *pb)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *s = dflt;

	if (v && !cJSON_IsString(v)) {
		problem(pb, "%s is not a string", key);
		return 0;
	}
	if (v && *v->valuestring)
		s = v->valuestring;
	if (!s) {
		problem(pb, v ? "%s is empty" : "missing %s", key);
		return 0;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static bool
port_text_valid(const char *s)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

static int
take_port(const cJSON *obj, char **ret, struct gp_buf *pb)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "port");
	char num[16];
	const char *s = num;

	if (!v) {
		s = "5432";
	} else if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 65535 &&
		   v->valuedouble == (double)v->valueint) {
		snprintf(num, sizeof(num), "%d", v->valueint);
	} else {
		problem(pb, "port is not a number or string");
		return 0;
	}
	if (!port_text_valid(s)) {
		problem(pb, "port is not a port number");
		return 0;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int
gp_master_parse(const char *json, struct gp_master *ret, char **ret_problem)
{
	_cleanup_json_ cJSON *root = parse_object(json);
	_cleanup_(gp_buf_release) struct gp_buf pb = {0};
	struct gp_master m = {0};
	int r = 0;

	if (!root) {
		problem(&pb, "not a JSON object");
	} else {
		/* RDS-managed master secrets hold only username and password: the host may come
		 * from the config (postgres.host, secret.host), so it is optional here. */
		r = r ?: take_string(root, "host", "", &m.host, &pb);
		r = r ?: take_port(root, &m.port, &pb);
		r = r ?: take_string(root, "username", NULL, &m.username, &pb);
		r = r ?: take_string(root, "password", NULL, &m.password, &pb);
		r = r ?: take_string(root, "dbname", "postgres", &m.dbname, &pb);
	}
	if (r == 0 && pb.oom)
		r = -ENOMEM;
	if (r == 0 && pb.len)
		r = -EINVAL;
	if (r < 0) {
		gp_master_release(&m);
		if (r == -EINVAL && ret_problem)
			*ret_problem = gp_buf_steal(&pb);
		return r;
	}
	*ret = m;
	return 0;
}

void
gp_master_release(struct gp_master *m)
{
	free(m->host);
	free(m->port);
	free(m->username);
	gp_secret_free_string(m->password);
	free(m->dbname);
	*m = (struct gp_master){0};
}
