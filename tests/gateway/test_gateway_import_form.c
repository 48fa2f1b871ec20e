/*  test_gateway_import_form.c: POST /api/v1/import as multipart/form-data
    (what the dashboard's import screen and a browser's FormData send), built
    by libcurl's MIME API, against a real gateway, registry and Redis:

    - the file with the caller's own mapping (columns the export format does
      not know): a dry run lists what would be created, the real run creates
      it, the same form again changes nothing;
    - the file with the name of a mapping kept on the gateway (a form part
      or the query);
    - what is wrong with a form is a 400 naming the part: no file, an
      unknown part, a part given twice, a mapping that is not JSON, both a
      mapping and an entity, a body cut short; nothing is written;
    - Excel: a register exported as .xlsx comes back unchanged as the form's
      file; the report as a workbook;
    - a Microsoft Project plan as application/xml, with its org unit and
      code in the query: the project and its milestone;
    - the mappings kept on the gateway, listed and read (HTTP and pmoctl),
      each only for the people of its org unit: another division's is not
      listed, not read and not imported with (the same words as a name
      that does not exist), a file that is not a mapping is left out.
*/
#include "gateway_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  The caller's own mapping: a spreadsheet with its own headers
#define MAPPING                                                                                    \
    "{\"entity\": \"project\", \"blank\": [\"to be confirmed*\"], \"columns\": ["                  \
    "{\"column\": \"Ref\", \"field\": \"code\"},"                                                  \
    "{\"column\": \"Title\", \"field\": \"name\"},"                                                \
    "{\"column\": \"Division\", \"field\": \"org_unit\", \"transform\": \"lower\"},"               \
    "{\"column\": \"Ends\", \"field\": \"baseline_finish\"}]}"

#define FILE_CSV                                                                                   \
    "Ref,Title,Division,Ends\r\n"                                                                  \
    "FORM-1,\"Signals, north\",DFT,31/12/2027\r\n"                                                 \
    "FORM-2,Wards,DHSC,To be confirmed by the board\r\n"

static char s_mappings[128];
static char s_pmoctl[1024];

static void s_tune (gateway_config_t *config)
{
    config->mappings = s_mappings;
}

typedef struct {
    const char *name;
    const char *data;     //  NULL: leave the part out
    const char *filename; //  NULL: a plain field
} part_t;

static size_t s_collect (char *data, size_t size, size_t n, void *arg)
{
    gh_resp_t *resp = arg;
    resp->body = realloc (resp->body, resp->size + size * n + 1);
    assert (resp->body);
    memcpy (resp->body + resp->size, data, size * n);
    resp->size += size * n;
    resp->body[resp->size] = 0;
    return size * n;
}

//  POST a form of parts to path, as libcurl's MIME API frames it.
static gh_resp_t *s_form (gh_t *gh, const char *path, const part_t *parts, size_t n)
{
    gh_resp_t *resp = calloc (1, sizeof (gh_resp_t));
    assert (resp);
    CURL *curl = curl_easy_init ();
    assert (curl);
    char url[512], auth[256];
    snprintf (url, sizeof url, "%s%s", gh->base, path);
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", gh->admin);
    struct curl_slist *headers = curl_slist_append (NULL, auth);
    headers = curl_slist_append (headers, "Expect:");
    curl_mime *mime = curl_mime_init (curl);
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].data)
            continue;
        curl_mimepart *part = curl_mime_addpart (mime);
        curl_mime_name (part, parts[i].name);
        curl_mime_data (part, parts[i].data, CURL_ZERO_TERMINATED);
        if (parts[i].filename) {
            curl_mime_filename (part, parts[i].filename);
            curl_mime_type (part, "text/csv");
        }
    }
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp);
    CURLcode rc = curl_easy_perform (curl);
    assert (rc == CURLE_OK);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->body)
        resp->json = json_loadb (resp->body, resp->size, 0, NULL);
    curl_mime_free (mime);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return resp;
}

static long s_int (gh_resp_t *resp, const char *key)
{
    return (long)json_integer_value (json_object_get (resp->json, key));
}

static size_t s_count (gh_t *gh)
{
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/projects?limit=500", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    size_t n = json_array_size (json_object_get (resp->json, "items"));
    gh_resp_free (&resp);
    return n;
}

//  A form the gateway refuses: 400 naming field; nothing written.
static void s_refused (gh_t *gh, const char *path, const part_t *parts, size_t n, const char *field,
                       const char *detail)
{
    size_t before = s_count (gh);
    gh_resp_t *resp = s_form (gh, path, parts, n);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), field) == 0, resp);
    GH_CHECK (strstr (gh_str (resp, "detail"), detail), resp);
    gh_resp_free (&resp);
    assert (s_count (gh) == before);
}

//  Write a file into the mappings directory
static void s_write (const char *name, const char *text)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", s_mappings, name);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
}

static void s_remove (const char *name)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", s_mappings, name);
    unlink (path);
}

//  The names of GET /api/v1/import/mappings<query> as token, joined by ","
static void s_listed (gh_t *gh, const char *token, const char *query, char *out, size_t size)
{
    char path[256];
    snprintf (path, sizeof path, "/api/v1/import/mappings%s", query);
    gh_resp_t *resp = gh_http (gh, "GET", path, token, NULL, NULL);
    GH_STATUS (resp, 200);
    *out = 0;
    json_t *items = json_object_get (resp->json, "items");
    for (size_t i = 0; i < json_array_size (items); i++) {
        json_t *item = json_array_get (items, i);
        GH_CHECK (!*json_string_value (json_object_get (item, "mapping")), resp); //  no text
        size_t used = strlen (out);
        snprintf (out + used, size - used, "%s%s", used ? "," : "",
                  json_string_value (json_object_get (item, "name")));
    }
    gh_resp_free (&resp);
}

//  pmoctl as who with grant; its exit status, its stdout in out
static int s_pmoctl_run (gh_t *gh, const char *grant, const char *args, char *out, size_t size)
{
    char command[2048];
    snprintf (command, sizeof command,
              "PMO_GATEWAY_ENDPOINT=%s PMO_REGISTRY_ENDPOINT=%s %s --as someone@test "
              "--grant %s %s 2>/dev/null",
              gh->endpoint, gh->rh->endpoint, s_pmoctl, grant, args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The mappings kept on the gateway, each for the people of its unit
static void s_stored_mappings (gh_t *gh)
{
    s_write ("rail.json", "{\"comment\": \"Rail's plans\", \"org_unit\": \"dft-rail\", "
                          "\"entity\": \"milestone\", \"columns\": [{\"column\": \"Project\", "
                          "\"field\": \"project\"}, {\"column\": \"Name\", \"field\": \"name\"}]}");
    s_write ("health.json", "{\"org_unit\": \"dhsc\", \"columns\": [{\"column\": \"Ref\", "
                            "\"field\": \"code\"}, {\"column\": \"Title\", \"field\": \"name\"}, "
                            "{\"column\": \"Division\", \"field\": \"org_unit\"}]}");
    s_write ("nowhere.json", "{\"org_unit\": \"atlantis\", \"columns\": []}");
    s_write ("broken.json", "{\"columns\": [");
    s_write ("notes.txt", "not a mapping");
    char *pm_dft = gh_token (gh, "pm@dft", "project_manager@dft");
    char *rail = gh_token (gh, "viewer@dft-rail", "viewer@dft-rail");
    char *nurse = gh_token (gh, "pm@dhsc", "project_manager@dhsc");
    char names[512];
    //  The hub sees every unit's; a division its own and its departments';
    //  a department its division's shared ones too; an unknown unit's and a
    //  broken file are nobody's
    s_listed (gh, gh->admin, "", names, sizeof names);
    assert (strcmp (names, "health,mine,rail") == 0);
    s_listed (gh, pm_dft, "", names, sizeof names);
    assert (strcmp (names, "mine,rail") == 0);
    s_listed (gh, rail, "", names, sizeof names);
    assert (strcmp (names, "mine,rail") == 0);
    s_listed (gh, nurse, "", names, sizeof names);
    assert (strcmp (names, "health,mine") == 0);
    s_listed (gh, pm_dft, "?entity=milestone", names, sizeof names);
    assert (strcmp (names, "rail") == 0);
    //  The summary: entity (project when the mapping does not say), unit,
    //  comment, columns
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/import/mappings", nurse, NULL, NULL);
    json_t *first = json_array_get (json_object_get (resp->json, "items"), 0);
    GH_CHECK (strcmp (json_string_value (json_object_get (first, "entity")), "project") == 0 &&
                  strcmp (json_string_value (json_object_get (first, "org_unit")), "dhsc") == 0 &&
                  json_integer_value (json_object_get (first, "columns")) == 3,
              resp);
    gh_resp_free (&resp);
    //  Read one whole: its text, as kept
    resp = gh_http (gh, "GET", "/api/v1/import/mappings/rail", rail, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_str (resp, "mapping"), "\"Rail's plans\"") &&
                  strcmp (gh_str (resp, "comment"), "Rail's plans") == 0,
              resp);
    gh_resp_free (&resp);
    //  Another division's is not there for you, in the same words as none
    resp = gh_http (gh, "GET", "/api/v1/import/mappings/health", pm_dft, NULL, NULL);
    GH_STATUS (resp, 404);
    char refused[300];
    snprintf (refused, sizeof refused, "%s", strstr (gh_str (resp, "detail"), "on this gateway"));
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/import/mappings/nothing", pm_dft, NULL, NULL);
    GH_STATUS (resp, 404);
    GH_CHECK (strcmp (strstr (gh_str (resp, "detail"), "on this gateway"), refused) == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/import/mappings/broken", gh->admin, NULL, NULL);
    GH_STATUS (resp, 404);
    GH_CHECK (strstr (gh_str (resp, "detail"), "not a JSON object"), resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET",
                    "/api/v1/import/mappings/"
                    "a123456789012345678901234567890123456789012345678901234567890123456789",
                    gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "name") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/import/mappings", NULL, NULL, NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    //  ... nor imported with: 400 at the field, nothing written
    const char *csv = "Ref,Title,Division\nHLT-9,Clinics,dhsc\n";
    size_t before = s_count (gh);
    resp = gh_http (gh, "POST", "/api/v1/import?mapping=health", pm_dft, csv,
                    "Content-Type: text/csv");
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "mapping") == 0 &&
                  strcmp (strstr (gh_str (resp, "detail"), "on this gateway"), refused) == 0,
              resp);
    gh_resp_free (&resp);
    assert (s_count (gh) == before);
    resp = gh_http (gh, "POST", "/api/v1/import?mapping=health&dry_run=1", nurse, csv,
                    "Content-Type: text/csv");
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 1, resp);
    gh_resp_free (&resp);
    //  pmoctl: the same list and the text, as the caller's grants allow
    char out[8192];
    assert (s_pmoctl_run (gh, "project_manager@dft", "mapping list", out, sizeof out) == 0);
    assert (strstr (out, "rail") && strstr (out, "Rail's plans") && strstr (out, "mine") &&
            !strstr (out, "health"));
    assert (s_pmoctl_run (gh, "project_manager@dhsc", "mapping get health", out, sizeof out) == 0);
    assert (strstr (out, "\"org_unit\": \"dhsc\""));
    assert (s_pmoctl_run (gh, "project_manager@dft", "mapping get health", out, sizeof out) != 0);
    //  ... and imports with one kept on the gateway, if the caller may use it
    char csv_path[256];
    snprintf (csv_path, sizeof csv_path, "%s/clinics.csv", s_mappings);
    FILE *file = fopen (csv_path, "w");
    assert (file);
    fputs (csv, file);
    fclose (file);
    char args[512];
    snprintf (args, sizeof args, "import %s --stored-mapping health --dry-run", csv_path);
    assert (s_pmoctl_run (gh, "project_manager@dhsc", args, out, sizeof out) == 0);
    assert (strstr (out, "unchanged") && strstr (out, "1"));
    assert (s_pmoctl_run (gh, "project_manager@dft", args, out, sizeof out) != 0);
    unlink (csv_path);
    free (pm_dft);
    free (rail);
    free (nurse);
    const char *written[] = {"rail.json", "health.json", "nowhere.json", "broken.json",
                             "notes.txt"};
    for (size_t i = 0; i < sizeof written / sizeof *written; i++)
        s_remove (written[i]);
}

int main (void)
{
    pmo_test_build_path ("services/pmoctl/pmoctl", s_pmoctl, sizeof s_pmoctl);
    snprintf (s_mappings, sizeof s_mappings, "/tmp/pmo-form-XXXXXX");
    assert (mkdtemp (s_mappings));
    char path[256];
    snprintf (path, sizeof path, "%s/mine.json", s_mappings);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (MAPPING, file);
    fclose (file);
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    size_t before = s_count (gh);

    //  The file with its own mapping: a dry run, then for real, then again
    part_t form[] = {{"file", FILE_CSV, "plan.csv"}, {"mapping", MAPPING, NULL}};
    gh_resp_t *resp = s_form (gh, "/api/v1/import?dry_run=1", form, 2);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 2 && s_int (resp, "bad") == 0, resp);
    json_t *fallbacks = json_object_get (resp->json, "fallbacks");
    GH_CHECK (json_integer_value (json_object_get (fallbacks, "blank")) == 1, resp);
    gh_resp_free (&resp);
    assert (s_count (gh) == before);
    resp = s_form (gh, "/api/v1/import", form, 2);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 2 &&
                  json_is_true (json_object_get (resp->json, "written")),
              resp);
    gh_resp_free (&resp);
    assert (s_count (gh) == before + 2);
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dft", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, "FORM-1,\"Signals, north\",,dft") &&
                  strstr (resp->body, "2027-12-31"),
              resp);
    gh_resp_free (&resp);
    resp = s_form (gh, "/api/v1/import", form, 2);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 2 && s_int (resp, "created") == 0, resp);
    gh_resp_free (&resp);

    //  A mapping kept on the gateway, by name: as a part, or in the query
    part_t named[] = {{"file", FILE_CSV, "plan.csv"}, {"mapping_name", "mine", NULL}};
    resp = s_form (gh, "/api/v1/import", named, 2);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 2, resp);
    gh_resp_free (&resp);
    resp = s_form (gh, "/api/v1/import?mapping=mine", form, 1);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 2, resp);
    gh_resp_free (&resp);
    //  A row problem is still a 422 with the row and column
    part_t late[] = {{"file", "Ref,Title,Division,Ends\nFORM-3,Late,dft,31/02/2027\n", "x.csv"},
                     {"mapping", MAPPING, NULL}};
    resp = s_form (gh, "/api/v1/import", late, 2);
    GH_STATUS (resp, 422);
    json_t *problem = json_array_get (json_object_get (resp->json, "problems"), 0);
    GH_CHECK (json_integer_value (json_object_get (problem, "row")) == 2 &&
                  strcmp (json_string_value (json_object_get (problem, "column")), "Ends") == 0,
              resp);
    gh_resp_free (&resp);

    //  What is wrong with the form: 400 naming the part, nothing written
    part_t no_file[] = {{"mapping", MAPPING, NULL}};
    s_refused (gh, "/api/v1/import", no_file, 1, "file", "no part 'file'");
    part_t unknown[] = {{"file", FILE_CSV, "plan.csv"}, {"mapings", MAPPING, NULL}};
    s_refused (gh, "/api/v1/import", unknown, 2, "mapings", "unknown part");
    part_t twice[] = {
        {"file", FILE_CSV, "plan.csv"}, {"mapping", MAPPING, NULL}, {"mapping", MAPPING, NULL}};
    s_refused (gh, "/api/v1/import", twice, 3, "mapping", "given twice");
    part_t not_json[] = {{"file", FILE_CSV, "plan.csv"}, {"mapping", "{\"columns\": [", NULL}};
    s_refused (gh, "/api/v1/import", not_json, 2, "mapping", "not JSON");
    s_refused (gh, "/api/v1/import?entity=project", form, 2, "entity", "give one of");
    part_t missing[] = {{"file", FILE_CSV, "plan.csv"}, {"mapping_name", "nothing-here", NULL}};
    s_refused (gh, "/api/v1/import", missing, 2, "mapping_name", "no mapping 'nothing-here'");

    //  A body cut short (no closing boundary), framed by hand
    const char *cut = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"a.csv\"\r\n\r\ncode,name,org_unit\r\nCUT-1,Cut,dft\r\n";
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, cut,
                    "Content-Type: multipart/form-data; boundary=XyZ");
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "body") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, cut,
                    "Content-Type: multipart/form-data");
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "Content-Type") == 0, resp);
    gh_resp_free (&resp);
    assert (s_count (gh) == before + 2);

    //  Excel both ways over HTTP: a typed workbook out, and back in as the
    //  body or as the form's file, unchanged; the report as a workbook
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dft&format=xlsx", gh->admin, NULL,
                    NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "spreadsheetml.sheet") && resp->size > 4 &&
                  memcmp (resp->body, "PK\x03\x04", 4) == 0,
              resp);
    size_t xlsx_size = resp->size;
    char *xlsx = malloc (xlsx_size);
    memcpy (xlsx, resp->body, xlsx_size);
    gh_resp_free (&resp);
    //  (gh_http sends a C string: the workbook goes through libcurl's MIME API)
    CURL *curl = curl_easy_init ();
    curl_mime *mime = curl_mime_init (curl);
    curl_mimepart *part = curl_mime_addpart (mime);
    curl_mime_name (part, "file");
    curl_mime_data (part, xlsx, xlsx_size);
    curl_mime_filename (part, "projects.xlsx");
    part = curl_mime_addpart (mime);
    curl_mime_name (part, "entity");
    curl_mime_data (part, "project", CURL_ZERO_TERMINATED);
    char url[512], auth[256];
    snprintf (url, sizeof url, "%s/api/v1/import", gh->base);
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", gh->admin);
    struct curl_slist *headers = curl_slist_append (NULL, auth);
    resp = calloc (1, sizeof (gh_resp_t));
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp);
    assert (curl_easy_perform (curl) == CURLE_OK);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->json = json_loadb (resp->body, resp->size, 0, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 1 && s_int (resp, "rows") == 1, resp);
    gh_resp_free (&resp);
    curl_mime_free (mime);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    free (xlsx);
    resp = gh_http (gh, "GET", "/api/v1/export/project?format=ods", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "format") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dft?format=xlsx", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "spreadsheetml.sheet") &&
                  memcmp (resp->body, "PK\x03\x04", 4) == 0,
              resp);
    gh_resp_free (&resp);

    //  A Microsoft Project plan: no mapping, its org unit in the query
    const char *plan =
        "<?xml version=\"1.0\"?><Project xmlns=\"http://schemas.microsoft.com/project\">"
        "<Title>Depot Upgrade</Title><StartDate>2026-02-02T08:00:00</StartDate>"
        "<FinishDate>2026-09-30T17:00:00</FinishDate><Tasks><Task><UID>0</UID>"
        "<OutlineLevel>0</OutlineLevel></Task><Task><UID>1</UID><WBS>1</WBS><Name>Design</Name>"
        "<OutlineLevel>1</OutlineLevel><Finish>2026-04-30T17:00:00</Finish></Task></Tasks>"
        "</Project>";
    resp = gh_http (gh, "POST", "/api/v1/import?org_unit=dft&code=DEPOT-1", gh->admin, plan,
                    "Content-Type: application/xml");
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 2 &&
                  strcmp (json_string_value (json_object_get (resp->json, "entity")), "mspdi") == 0,
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dft", gh->admin, NULL, NULL);
    GH_CHECK (strstr (resp->body, "DEPOT-1,Depot Upgrade"), resp);
    gh_resp_free (&resp);

    s_stored_mappings (gh);

    gh_stop (&gh);
    unlink (path);
    rmdir (s_mappings);
    printf ("test_gateway_import_form: OK\n");
    return 0;
}
