/*  =========================================================================
    test_json - pmo_json: protobuf-c messages to and from JSON

    Round-trips real project messages (a fully populated Project, a
    RegistryRequest with a oneof member) and checks every rejection the
    decoder promises, with the field path it names. A small hand-written
    descriptor covers what proto/ does not use yet: bytes, doubles and
    messages nested past the depth limit. The text pmo_json_encode writes
    directly is compared byte for byte with jansson's dump of
    pmo_json_from_message's tree, over every service's requests and replies
    filled with edge values (every oneof member in turn).
    =========================================================================
*/

#include "allocator.pb-c.h"
#include "federation.pb-c.h"
#include "gateway.pb-c.h"
#include "notifier.pb-c.h"
#include "planner.pb-c.h"
#include "pmo.pb-c.h"
#include "pmo_json.h"
#include "pmo_util.h"
#include "registry.pb-c.h"
#include "riskmon.pb-c.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Pack both messages and compare the bytes: equal wire form, equal message
static void s_assert_same (const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t size_a = protobuf_c_message_get_packed_size (a);
    size_t size_b = protobuf_c_message_get_packed_size (b);
    assert (size_a == size_b);
    uint8_t *packed_a = malloc (size_a + 1);
    uint8_t *packed_b = malloc (size_b + 1);
    assert (packed_a && packed_b);
    assert (protobuf_c_message_pack (a, packed_a) == size_a);
    assert (protobuf_c_message_pack (b, packed_b) == size_b);
    assert (memcmp (packed_a, packed_b, size_a) == 0);
    free (packed_a);
    free (packed_b);
}

//  encode -> decode -> compare, and the second encoding is the same text
static void s_round_trip (const ProtobufCMessage *msg, bool verbose)
{
    char *text = pmo_json_encode (msg);
    assert (text);
    if (verbose)
        printf ("%s\n", text);
    ProtobufCMessage *copy = NULL;
    pmo_json_error_t err;
    int rc = pmo_json_decode (msg->descriptor, text, strlen (text), &copy, &err);
    if (rc)
        fprintf (stderr, "decode failed: %s: %s\n", err.field, err.message);
    assert (rc == 0 && copy);
    assert (copy->descriptor == msg->descriptor);
    s_assert_same (msg, copy);
    char *again = pmo_json_encode (copy);
    assert (again);
    assert (strcmp (text, again) == 0);
    free (again);
    free (text);
    protobuf_c_message_free_unpacked (copy, NULL);
}

//  Decoding `text` must fail at `field` with a message containing `fragment`
static void s_expect_error (const ProtobufCMessageDescriptor *desc, const char *text,
                            const char *field, const char *fragment)
{
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    int rc = pmo_json_decode (desc, text, strlen (text), &msg, &err);
    if (rc != -1 || strcmp (err.field, field) != 0 || !strstr (err.message, fragment)) {
        fprintf (stderr,
                 "test_json: %s\n  got rc=%d field=\"%s\" message=\"%s\"\n"
                 "  want field=\"%s\" message containing \"%s\"\n",
                 text, rc, rc ? err.field : "", rc ? err.message : "", field, fragment);
        assert (false);
    }
    assert (msg == NULL);
}

//  Decoding `text` must succeed; caller owns the message
static ProtobufCMessage *s_expect_ok (const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    if (pmo_json_decode (desc, text, strlen (text), &msg, &err)) {
        fprintf (stderr, "test_json: %s\n  failed: %s: %s\n", text, err.field, err.message);
        assert (false);
    }
    assert (msg);
    return msg;
}

static bool s_streq (const char *a, const char *b)
{
    return a && b && strcmp (a, b) == 0;
}

//  --------------------------------------------------------------------------
//  A hand-written descriptor, as protoc-c would generate for
//      message Node { Node child = 1; bytes blob = 2; repeated double values = 3;
//                     optional float ratio = 4; }
//  (proto2 `optional`: ratio has a has_ flag)

typedef struct s_node_t s_node_t;
struct s_node_t {
    ProtobufCMessage base;
    s_node_t *child;
    ProtobufCBinaryData blob;
    size_t n_values;
    double *values;
    protobuf_c_boolean has_ratio;
    float ratio;
};

static const ProtobufCMessageDescriptor s_node_descriptor;

static void s_node_init (ProtobufCMessage *msg)
{
    static const s_node_t init = {.base = PROTOBUF_C_MESSAGE_INIT (&s_node_descriptor)};
    *(s_node_t *)msg = init;
}

static const ProtobufCFieldDescriptor s_node_fields[] = {
    {"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof (s_node_t, child),
     &s_node_descriptor, NULL, 0, 0, NULL, NULL},
    {"blob", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_BYTES, 0, offsetof (s_node_t, blob), NULL,
     NULL, 0, 0, NULL, NULL},
    {"values", 3, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_DOUBLE, offsetof (s_node_t, n_values),
     offsetof (s_node_t, values), NULL, NULL, PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL},
    {"ratio", 4, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_FLOAT, offsetof (s_node_t, has_ratio),
     offsetof (s_node_t, ratio), NULL, NULL, 0, 0, NULL, NULL},
};
static const unsigned s_node_fields_by_name[] = {1, 0, 3, 2};
static const ProtobufCIntRange s_node_ranges[] = {{1, 0}, {0, 4}};

static const ProtobufCMessageDescriptor s_node_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                             "test.Node",
                                                             "Node",
                                                             "Test__Node",
                                                             "test",
                                                             sizeof (s_node_t),
                                                             4,
                                                             s_node_fields,
                                                             s_node_fields_by_name,
                                                             1,
                                                             s_node_ranges,
                                                             s_node_init,
                                                             NULL,
                                                             NULL,
                                                             NULL};

//  --------------------------------------------------------------------------

static void s_test_enum_labels (void)
{
    char buf[32];
    assert (s_streq (
        pmo_json_enum_label (&pmo__phase__descriptor, PMO__PHASE__PHASE_EXECUTION, buf, sizeof buf),
        "execution"));
    assert (
        s_streq (pmo_json_enum_label (&pmo__project_status__descriptor,
                                      PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD, buf, sizeof buf),
                 "on_hold"));
    assert (s_streq (
        pmo_json_enum_label (&pmo__role__descriptor, PMO__ROLE__ROLE_PMO_MANAGER, buf, sizeof buf),
        "pmo_manager"));
    assert (s_streq (pmo_json_enum_label (&pmo__pmo_type__descriptor,
                                          PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, buf, sizeof buf),
                     "controlling"));
    assert (s_streq (pmo_json_enum_label (&pmo__gate_outcome__descriptor,
                                          PMO__GATE_OUTCOME__GATE_OUTCOME_CONDITIONAL_GO, buf,
                                          sizeof buf),
                     "conditional_go"));
    assert (s_streq (pmo_json_enum_label (&pmo__error_code__descriptor,
                                          PMO__ERROR_CODE__ERROR_NOT_FOUND, buf, sizeof buf),
                     "not_found"));
    //  Unknown value, and a buffer too small for "execution"
    assert (pmo_json_enum_label (&pmo__phase__descriptor, 99, buf, sizeof buf) == NULL);
    assert (pmo_json_enum_label (&pmo__phase__descriptor, PMO__PHASE__PHASE_EXECUTION, buf, 9) ==
            NULL);
    assert (pmo_json_enum_label (&pmo__phase__descriptor, PMO__PHASE__PHASE_EXECUTION, buf, 10) ==
            buf);

    int value = -1;
    assert (pmo_json_enum_parse (&pmo__project_status__descriptor, "on_hold", &value) == 0);
    assert (value == PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD);
    value = -1;
    assert (pmo_json_enum_parse (&pmo__project_status__descriptor, "ON_Hold", &value) == 0);
    assert (value == PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD);
    value = -1;
    assert (pmo_json_enum_parse (&pmo__project_status__descriptor, "PROJECT_STATUS_ON_HOLD",
                                 &value) == 0);
    assert (value == PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD);
    value = -1;
    assert (pmo_json_enum_parse (&pmo__role__descriptor, "pmo_manager", &value) == 0);
    assert (value == PMO__ROLE__ROLE_PMO_MANAGER);
    assert (pmo_json_enum_parse (&pmo__phase__descriptor, "exec", &value) == -1);
    assert (pmo_json_enum_parse (&pmo__phase__descriptor, "", &value) == -1);
    assert (pmo_json_enum_parse (&pmo__phase__descriptor, "PHASE_", &value) == -1);
}

//  Fills every field of a project; the sub-messages live in `parts`
typedef struct {
    Pmo__Money money[5];
    Pmo__Budget budget;
    Pmo__Benefits benefits;
} s_project_parts_t;

static char *s_depends_on[] = {"pr_fin_1", "pr_fin_2", "pr_ops_7"};
static char *s_artifacts[] = {"charter", "business_case"};

static void s_project_fill (Pmo__Project *project, s_project_parts_t *parts)
{
    pmo__project__init (project);
    for (int i = 0; i < 5; i++) {
        pmo__money__init (&parts->money[i]);
        parts->money[i].currency = "GBP";
    }
    parts->money[0].minor = 125000000;
    parts->money[1].minor = 40000050;
    parts->money[2].minor = 131000000;
    parts->money[3].minor = 300000000;
    parts->money[4].minor = -1; //  negative on purpose
    pmo__budget__init (&parts->budget);
    parts->budget.baseline = &parts->money[0];
    parts->budget.actual = &parts->money[1];
    parts->budget.forecast = &parts->money[2];
    pmo__benefits__init (&parts->benefits);
    parts->benefits.planned = &parts->money[3];
    parts->benefits.realised = &parts->money[4];

    project->id = "pr_fin_14";
    project->code = "FIN-2026-014";
    project->name = "Ledger \"migration\" \\ phase 2\n\tcaf\xc3\xa9 \xe2\x9c\x93";
    project->description = "Move the general ledger to the new platform.";
    project->org_unit = "fin-ops";
    project->org_unit_path = "dft/fin/fin-ops";
    project->division = "fin";
    project->portfolio_id = "pf_fin_1";
    project->programme_id = "pg_fin_3";
    project->sponsor = "jane@dft";
    project->manager = "raj@dft";
    project->methodology = PMO__METHODOLOGY__METHODOLOGY_HYBRID;
    project->phase = PMO__PHASE__PHASE_EXECUTION;
    project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD;
    project->priority = 2;
    project->strategic_score = UINT32_MAX;
    project->baseline_start = "2026-01-05";
    project->baseline_finish = "2026-12-18";
    project->forecast_finish = "2027-02-26";
    project->budget = &parts->budget;
    project->benefits = &parts->benefits;
    project->n_depends_on = 3;
    project->depends_on = s_depends_on;
    project->n_artifacts = 2;
    project->artifacts = s_artifacts;
    project->external_id = "row-0042";
    project->version = UINT64_MAX; //  beyond a JSON integer: written as a string
    project->created_ms = INT64_MIN;
    project->updated_ms = 1767225600123;
    project->created_by = "importer";
    project->archived = 1;
}

static void s_test_project (bool verbose)
{
    Pmo__Project project;
    s_project_parts_t parts;
    s_project_fill (&project, &parts);
    s_round_trip (&project.base, verbose);

    json_t *json = pmo_json_from_message (&project.base);
    //  Every field, repeated ones as arrays even when empty (artifact_records too)
    assert (json);
    assert (json_object_size (json) == 30);
    assert (s_streq (json_string_value (json_object_get (json, "phase")), "execution"));
    assert (s_streq (json_string_value (json_object_get (json, "status")), "on_hold"));
    assert (s_streq (json_string_value (json_object_get (json, "methodology")), "hybrid"));
    assert (
        s_streq (json_string_value (json_object_get (json, "version")), "18446744073709551615"));
    assert (json_integer_value (json_object_get (json, "created_ms")) == INT64_MIN);
    assert (json_integer_value (json_object_get (json, "strategic_score")) == UINT32_MAX);
    assert (json_is_true (json_object_get (json, "archived")));
    assert (json_array_size (json_object_get (json, "depends_on")) == 3);
    json_t *minor =
        json_object_get (json_object_get (json_object_get (json, "budget"), "baseline"), "minor");
    assert (json_integer_value (minor) == 125000000);
    json_decref (json);

    //  An empty project still shows every scalar; unset sub-messages do not
    Pmo__Project empty = PMO__PROJECT__INIT;
    json = pmo_json_from_message (&empty.base);
    assert (json);
    assert (json_object_size (json) == 28);
    assert (!json_object_get (json, "budget"));
    assert (!json_object_get (json, "benefits"));
    assert (s_streq (json_string_value (json_object_get (json, "name")), ""));
    assert (s_streq (json_string_value (json_object_get (json, "phase")), "unspecified"));
    assert (json_integer_value (json_object_get (json, "priority")) == 0);
    assert (json_is_false (json_object_get (json, "archived")));
    assert (json_is_array (json_object_get (json, "artifacts")));
    assert (json_array_size (json_object_get (json, "artifacts")) == 0);
    json_decref (json);
    s_round_trip (&empty.base, false);

    //  Alternative spellings on input: 64-bit decimal strings, full enum
    //  names, enum integers, nulls
    Pmo__Project *decoded = (Pmo__Project *)s_expect_ok (
        &pmo__project__descriptor,
        "{\"version\":\"42\",\"created_ms\":\"-9223372036854775808\",\"updated_ms\":-5,"
        "\"phase\":\"PHASE_CLOSING\",\"status\":6,\"methodology\":\"Agile\","
        "\"name\":null,\"budget\":null,\"depends_on\":[],\"description\":\"\"}");
    assert (decoded->version == 42);
    assert (decoded->created_ms == INT64_MIN);
    assert (decoded->updated_ms == -5);
    assert (decoded->phase == PMO__PHASE__PHASE_CLOSING);
    assert (decoded->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED);
    assert (decoded->methodology == PMO__METHODOLOGY__METHODOLOGY_AGILE);
    assert (decoded->name == protobuf_c_empty_string);
    assert (decoded->budget == NULL);
    assert (decoded->n_depends_on == 0);
    assert (s_streq (decoded->description, ""));
    protobuf_c_message_free_unpacked (&decoded->base, NULL);
}

static void s_test_registry_request (bool verbose)
{
    Pmo__Project project;
    s_project_parts_t parts;
    s_project_fill (&project, &parts);

    Pmo__Grant grants[2];
    Pmo__Grant *grant_ptrs[2] = {&grants[0], &grants[1]};
    pmo__grant__init (&grants[0]);
    grants[0].role = PMO__ROLE__ROLE_PMO_MANAGER;
    grants[0].org_unit = "fin";
    pmo__grant__init (&grants[1]);
    grants[1].role = PMO__ROLE__ROLE_ADMIN;
    grants[1].org_unit = "dft";
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "jane@dft";
    identity.n_grants = 2;
    identity.grants = grant_ptrs;
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = 1;
    header.request_id = "req-7f3a";
    header.deadline_ms = 1767225605000;
    header.identity = &identity;

    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.header = &header;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    s_round_trip (&request.base, verbose);

    json_t *json = pmo_json_from_message (&request.base);
    assert (json);
    assert (json_object_size (json) == 2); //  header and the one member set
    assert (json_is_object (json_object_get (json, "create_project")));
    assert (!json_object_get (json, "update_project"));
    json_t *grant = json_array_get (
        json_object_get (json_object_get (json_object_get (json, "header"), "identity"), "grants"),
        0);
    assert (s_streq (json_string_value (json_object_get (grant, "role")), "pmo_manager"));
    json_decref (json);

    //  An empty oneof member is still set; none set writes none
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RegistryRequest ping_request = PMO__REGISTRY_REQUEST__INIT;
    ping_request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
    ping_request.ping = &ping;
    char *text = pmo_json_encode (&ping_request.base);
    assert (s_streq (text, "{\"ping\":{}}"));
    free (text);
    s_round_trip (&ping_request.base, false);
    Pmo__RegistryRequest none = PMO__REGISTRY_REQUEST__INIT;
    text = pmo_json_encode (&none.base);
    assert (s_streq (text, "{}"));
    free (text);

    //  A null member does not count as set
    Pmo__RegistryRequest *decoded = (Pmo__RegistryRequest *)s_expect_ok (
        &pmo__registry_request__descriptor, "{\"get\":null,\"create_project\":{\"id\":\"x\"}}");
    assert (decoded->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT);
    assert (s_streq (decoded->create_project->id, "x"));
    protobuf_c_message_free_unpacked (&decoded->base, NULL);
}

static void s_test_errors (void)
{
    const ProtobufCMessageDescriptor *project = &pmo__project__descriptor;
    const ProtobufCMessageDescriptor *request = &pmo__registry_request__descriptor;

    //  Unknown fields, named with their path
    s_expect_error (project, "{\"id\":\"x\",\"bogus\":1}", "bogus", "unknown field \"bogus\"");
    s_expect_error (request, "{\"create_project\":{\"budget\":{\"basline\":{}}}}",
                    "create_project.budget.basline", "unknown field \"basline\"");

    //  Wrong JSON types
    s_expect_error (project, "{\"priority\":\"high\"}", "priority",
                    "expected an integer, got string");
    s_expect_error (project, "{\"priority\":1.5}", "priority", "expected an integer, got real");
    s_expect_error (project, "{\"name\":5}", "name", "expected a string, got integer");
    s_expect_error (project, "{\"archived\":\"yes\"}", "archived",
                    "expected a boolean, got string");
    s_expect_error (project, "{\"archived\":1}", "archived", "expected a boolean, got integer");
    s_expect_error (project, "{\"depends_on\":\"pr_1\"}", "depends_on",
                    "expected an array, got string");
    s_expect_error (project, "{\"budget\":[]}", "budget", "expected an object, got array");
    s_expect_error (project, "{\"phase\":true}", "phase", "expected an enum label, got boolean");
    s_expect_error (project, "{\"version\":{}}", "version",
                    "expected an integer or a decimal string, got object");
    s_expect_error (project, "[]", "", "expected an object, got array");
    s_expect_error (project, "\"project\"", "", "expected an object, got string");

    //  Out of range numbers
    s_expect_error (project, "{\"priority\":-1}", "priority",
                    "value -1 is out of range for uint32");
    s_expect_error (project, "{\"strategic_score\":4294967296}", "strategic_score",
                    "value 4294967296 is out of range for uint32");
    s_expect_error (project, "{\"version\":\"-1\"}", "version", "out of range for uint64");
    s_expect_error (project, "{\"version\":-1}", "version", "out of range for uint64");
    s_expect_error (project, "{\"version\":\"18446744073709551616\"}", "version",
                    "out of range for uint64");
    s_expect_error (project, "{\"created_ms\":\"9223372036854775808\"}", "created_ms",
                    "out of range for int64");
    s_expect_error (project, "{\"created_ms\":\"12.5\"}", "created_ms",
                    "\"12.5\" is not a decimal integer");
    s_expect_error (project, "{\"created_ms\":\" 12\"}", "created_ms", "not a decimal integer");
    s_expect_error (project, "{\"created_ms\":\"\"}", "created_ms", "not a decimal integer");
    s_expect_error (project, "{\"created_ms\":\"-\"}", "created_ms", "not a decimal integer");

    //  Bad enums
    s_expect_error (project, "{\"phase\":\"exec\"}", "phase",
                    "unknown value \"exec\" for enum pmo.Phase");
    s_expect_error (project, "{\"phase\":99}", "phase", "unknown value 99 for enum pmo.Phase");
    s_expect_error (project, "{\"phase\":4294967296}", "phase", "unknown value 4294967296");

    //  A second oneof member
    s_expect_error (request, "{\"create_project\":{},\"get\":{}}", "get",
                    "only one of \"create_project\" and \"get\" may be set");

    //  Malformed text: line and column, no field
    s_expect_error (project, "{\"id\": \"x\",}", "", "line 1");
    s_expect_error (project, "{\n  \"id\": \"x\",\n  oops\n}", "", "line 3, column ");
    s_expect_error (project, "", "", "invalid JSON");
    s_expect_error (project, "{\"id\":\"a\",\"id\":\"b\"}", "", "duplicate");
    s_expect_error (project, "{\"version\":18446744073709551615}", "", "too big");

    //  Errors deep inside: the path names every step
    s_expect_error (request,
                    "{\"create_project\":{\"budget\":{\"baseline\":{\"minor\":\"12.5\"}}}}",
                    "create_project.budget.baseline.minor", "not a decimal integer");
    s_expect_error (request, "{\"create_project\":{\"budget\":{\"baseline\":{\"minor\":1.5}}}}",
                    "create_project.budget.baseline.minor",
                    "expected an integer or a decimal string, got real");
    s_expect_error (project, "{\"depends_on\":[\"pr_1\",\"pr_2\",7]}", "depends_on[2]",
                    "expected a string, got integer");
    s_expect_error (project, "{\"depends_on\":[\"pr_1\",null]}", "depends_on[1]",
                    "null is not allowed");
    s_expect_error (request,
                    "{\"header\":{\"identity\":{\"grants\":[{\"role\":\"admin\"},"
                    "{\"org_unit\":\"fin\",\"role\":\"boss\"}]}}}",
                    "header.identity.grants[1].role", "unknown value \"boss\" for enum pmo.Role");
    s_expect_error (request, "{\"header\":{\"identity\":{\"grants\":[{},[]]}}}",
                    "header.identity.grants[1]", "expected an object, got array");

    //  Built in code rather than parsed: NULs jansson's parser would refuse
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    json_t *json = json_object ();
    json_object_set_new (json, "name", json_stringn ("a\0b", 3));
    assert (pmo_json_to_message (project, json, &msg, &err) == -1 && !msg);
    assert (s_streq (err.field, "name") && strstr (err.message, "NUL"));
    json_decref (json);
    json = json_object ();
    json_object_setn_new (json, "id\0x", 4, json_string ("x"));
    assert (pmo_json_to_message (project, json, &msg, &err) == -1 && !msg);
    assert (strstr (err.message, "unknown field"));
    json_decref (json);

    //  A NULL error report is allowed
    const char *bad = "{\"bogus\":1}";
    assert (pmo_json_decode (project, bad, strlen (bad), &msg, NULL) == -1 && !msg);
    //  Text with a length: only `len` bytes count
    const char *padded = "{\"id\":\"x\"}garbage";
    assert (pmo_json_decode (project, padded, 10, &msg, &err) == 0);
    assert (s_streq (((Pmo__Project *)msg)->id, "x"));
    protobuf_c_message_free_unpacked (msg, NULL);
}

//  bytes, doubles, proto2 optional and the depth limit, on the hand-written Node
static void s_test_node (bool verbose)
{
    uint8_t blob[] = {0x00, 0x01, 0x02, 0xfe, 0xff};
    double values[] = {1.5, -0.0, 1e300, NAN, INFINITY, -INFINITY};
    s_node_t child = {.base = PROTOBUF_C_MESSAGE_INIT (&s_node_descriptor)};
    child.blob.data = blob;
    child.blob.len = 4;
    s_node_t node = {.base = PROTOBUF_C_MESSAGE_INIT (&s_node_descriptor)};
    node.child = &child;
    node.blob.data = blob;
    node.blob.len = sizeof blob;
    node.n_values = sizeof values / sizeof values[0];
    node.values = values;
    node.has_ratio = 1;
    node.ratio = 0.25f;
    s_round_trip (&node.base, verbose);
    char *text = pmo_json_encode (&node.base);
    assert (s_streq (
        text, "{\"child\":{\"blob\":\"AAEC/g==\",\"values\":[]},\"blob\":\"AAEC/v8=\","
              "\"values\":[1.5,-0.0,1.0000000000000001e300,\"NaN\",\"Infinity\",\"-Infinity\"],"
              "\"ratio\":0.25}"));
    free (text);

    //  Unpadded base64 is fine; a short last group must not carry stray bits
    s_node_t *decoded = (s_node_t *)s_expect_ok (&s_node_descriptor, "{\"blob\":\"AAEC/v8\"}");
    assert (decoded->blob.len == 5 && memcmp (decoded->blob.data, blob, 5) == 0);
    assert (!decoded->has_ratio);
    protobuf_c_message_free_unpacked (&decoded->base, NULL);
    decoded = (s_node_t *)s_expect_ok (&s_node_descriptor, "{\"blob\":\"\",\"ratio\":1}");
    assert (decoded->blob.len == 0 && decoded->has_ratio && decoded->ratio == 1.0f);
    protobuf_c_message_free_unpacked (&decoded->base, NULL);
    s_expect_error (&s_node_descriptor, "{\"blob\":\"AAE*\"}", "blob", "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"blob\":\"AAEC/v9=\"}", "blob", "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"blob\":\"AAECA\"}", "blob", "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"blob\":\"AA=A\"}", "blob", "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"blob\":\"AAEC \"}", "blob", "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"child\":{\"blob\":\"A===\"}}", "child.blob",
                    "invalid base64");
    s_expect_error (&s_node_descriptor, "{\"blob\":7}", "blob", "expected a base64 string");
    s_expect_error (&s_node_descriptor, "{\"ratio\":1e39}", "ratio", "out of range for float");
    s_expect_error (&s_node_descriptor, "{\"values\":[1,\"nan\"]}", "values[1]",
                    "expected a number, got \"nan\"");

    //  Depth: 32 nested messages are fine, 33 are not, either way
    char deep[33 * 12 + 8];
    for (int levels = 32; levels <= 33; levels++) {
        char *at = deep;
        for (int i = 1; i < levels; i++)
            at += sprintf (at, "{\"child\":");
        at += sprintf (at, "{}");
        for (int i = 1; i < levels; i++)
            *at++ = '}';
        *at = '\0';
        if (levels == 32) {
            ProtobufCMessage *msg = s_expect_ok (&s_node_descriptor, deep);
            protobuf_c_message_free_unpacked (msg, NULL);
        } else {
            char path[33 * 6];
            path[0] = '\0';
            for (int i = 1; i < levels; i++)
                strcat (path, i > 1 ? ".child" : "child");
            s_expect_error (&s_node_descriptor, deep, path, "nested deeper than 32");
        }
    }
    s_node_t chain[33];
    for (int i = 0; i < 33; i++) {
        s_node_init (&chain[i].base);
        chain[i].child = i + 1 < 33 ? &chain[i + 1] : NULL;
    }
    json_t *json = pmo_json_from_message (&chain[1].base); //  32 levels
    assert (json);
    json_decref (json);
    assert (pmo_json_from_message (&chain[0].base) == NULL); //  33 levels
}

//  ---------------------------------------------------------------------
//  The direct text against jansson's dump of the tree

static const double s_reals[] = {0.0,  -0.0, 1.0,     0.1,     -2.5,          100.0,    1e20,
                                 1e-5, 3e-7, 1e300,   -1e-300, 123456789.125, 1.5e17,   2.5e-310,
                                 1e16, 1e17, DBL_MAX, NAN,     INFINITY,      -INFINITY};
static const char *s_strings[] = {"",
                                  "plain",
                                  "quote \" back\\slash / slash",
                                  "ctl \x01\x1f\b\f\n\r\t\x7f end",
                                  "\xc3\xbc"
                                  "n\xc3\xaf"
                                  "c\xc3\xb6"
                                  "d\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e",
                                  "\xe2\x80\xa8 line separator"};

//  Fill every field of msg (of desc) with edge values picked by *n; one
//  member of each oneof, chosen by seed. Submessages to depth 4.
static void s_fill (pmo_arena_t *arena, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage *msg, unsigned seed, unsigned *n, int depth)
{
    desc->message_init (msg);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = desc->fields + i;
        char *base = (char *)msg;
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            //  The members of one oneof share the case: take the seed'th
            unsigned first = i, count = 0;
            while (first > 0 && (desc->fields[first - 1].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                   desc->fields[first - 1].quantifier_offset == field->quantifier_offset)
                first--;
            for (unsigned k = first;
                 k < desc->n_fields && (desc->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                 desc->fields[k].quantifier_offset == field->quantifier_offset;
                 k++)
                count++;
            if (i != first + seed % count)
                continue;
            *(uint32_t *)(base + field->quantifier_offset) = field->id;
        } else if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
                   field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *)(base + field->quantifier_offset) = (*n)++ % 3 != 0;
        size_t count = 1;
        char *slot = base + field->offset;
        size_t size = 0;
        switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_ENUM:
            size = 4;
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
            size = 8;
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            size = 4;
            break;
        case PROTOBUF_C_TYPE_BOOL:
            size = sizeof (protobuf_c_boolean);
            break;
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE:
            size = sizeof (void *);
            break;
        case PROTOBUF_C_TYPE_BYTES:
            size = sizeof (ProtobufCBinaryData);
            break;
        }
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            count = field->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 4 ? 0 : (*n)++ % 4;
            *(size_t *)(base + field->quantifier_offset) = count;
            char *array = count ? pmo_arena_alloc (arena, count * size) : NULL;
            *(char **)slot = array;
            slot = array;
        }
        for (size_t k = 0; k < count; k++, slot += size) {
            unsigned pick = (*n)++;
            switch (field->type) {
            case PROTOBUF_C_TYPE_INT32:
            case PROTOBUF_C_TYPE_SINT32:
            case PROTOBUF_C_TYPE_SFIXED32: {
                const int32_t v[] = {0, -1, 7, INT32_MIN, INT32_MAX};
                *(int32_t *)slot = v[pick % 5];
                break;
            }
            case PROTOBUF_C_TYPE_UINT32:
            case PROTOBUF_C_TYPE_FIXED32: {
                const uint32_t v[] = {0, 1, UINT32_MAX};
                *(uint32_t *)slot = v[pick % 3];
                break;
            }
            case PROTOBUF_C_TYPE_INT64:
            case PROTOBUF_C_TYPE_SINT64:
            case PROTOBUF_C_TYPE_SFIXED64: {
                const int64_t v[] = {0, -1, 1700000000000, INT64_MIN, INT64_MAX};
                *(int64_t *)slot = v[pick % 5];
                break;
            }
            case PROTOBUF_C_TYPE_UINT64:
            case PROTOBUF_C_TYPE_FIXED64: {
                const uint64_t v[] = {0, 42, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1,
                                      UINT64_MAX};
                *(uint64_t *)slot = v[pick % 5];
                break;
            }
            case PROTOBUF_C_TYPE_FLOAT:
                *(float *)slot = (float)s_reals[pick % (sizeof s_reals / sizeof s_reals[0])];
                break;
            case PROTOBUF_C_TYPE_DOUBLE:
                *(double *)slot = s_reals[pick % (sizeof s_reals / sizeof s_reals[0])];
                break;
            case PROTOBUF_C_TYPE_BOOL:
                *(protobuf_c_boolean *)slot = pick % 2;
                break;
            case PROTOBUF_C_TYPE_ENUM: {
                const ProtobufCEnumDescriptor *e = field->descriptor;
                //  Now and then a value from a newer peer (no name)
                *(int *)slot = pick % 7 == 6 ? 12345 : e->values[pick % e->n_values].value;
                break;
            }
            case PROTOBUF_C_TYPE_STRING:
                *(char **)slot =
                    pick % 9 == 8
                        ? NULL
                        : (char *)s_strings[pick % (sizeof s_strings / sizeof s_strings[0])];
                break;
            case PROTOBUF_C_TYPE_BYTES: {
                ProtobufCBinaryData *data = (ProtobufCBinaryData *)slot;
                data->len = pick % 6;
                data->data = pmo_arena_alloc (arena, data->len + 1);
                for (size_t b = 0; b < data->len; b++)
                    data->data[b] = (uint8_t)(pick * 37 + b * 101);
                break;
            }
            case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessageDescriptor *sub_desc = field->descriptor;
                ProtobufCMessage *sub = NULL;
                //  A repeated element may be NULL only in memory: "null" in both
                if (depth < 4 && pick % 11 != 10) {
                    sub = pmo_arena_alloc (arena, sub_desc->sizeof_message);
                    s_fill (arena, sub_desc, sub, seed + pick, n, depth + 1);
                }
                *(ProtobufCMessage **)slot = sub;
                break;
            }
            }
        }
    }
}

static size_t s_compare_text (const ProtobufCMessage *msg, bool verbose)
{
    char *direct = pmo_json_encode (msg);
    json_t *tree = pmo_json_from_message (msg);
    char *dumped = tree ? json_dumps (tree, JSON_COMPACT) : NULL;
    json_decref (tree);
    if ((direct == NULL) != (dumped == NULL) || (direct && strcmp (direct, dumped) != 0)) {
        fprintf (stderr, "test_json: %s differs\n  direct: %s\n  jansson: %s\n",
                 msg->descriptor->name, direct ? direct : "(null)", dumped ? dumped : "(null)");
        assert (false);
    }
    if (verbose && direct && strlen (direct) < 300)
        printf ("  %s\n", direct);
    size_t len = direct ? strlen (direct) : 0;
    free (direct);
    free (dumped);
    return len;
}

static void s_test_direct_text (bool verbose)
{
    const ProtobufCMessageDescriptor *roots[] = {
        &pmo__registry_request__descriptor,  &pmo__registry_reply__descriptor,
        &pmo__allocator_request__descriptor, &pmo__allocator_reply__descriptor,
        &pmo__riskmon_request__descriptor,   &pmo__riskmon_reply__descriptor,
        &pmo__planner_request__descriptor,   &pmo__planner_reply__descriptor,
        &pmo__notifier_request__descriptor,  &pmo__notifier_reply__descriptor,
        &pmo__gateway_request__descriptor,   &pmo__gateway_reply__descriptor,
        &pmo__hub_request__descriptor,       &pmo__hub_reply__descriptor,
    };
    size_t compared = 0, bytes = 0;
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++)
        for (unsigned seed = 0; seed < 64; seed++) {
            pmo_arena_t *arena = pmo_arena_new ();
            ProtobufCMessage *msg = pmo_arena_alloc (arena, roots[r]->sizeof_message);
            unsigned n = seed * 7;
            s_fill (arena, roots[r], msg, seed, &n, 1);
            bytes += s_compare_text (msg, verbose && seed == 0);
            compared++;
            pmo_arena_destroy (&arena);
        }
    //  Strings jansson refuses (not UTF-8 it takes): no text from either
    const char *bad[] = {"\xff",     "a\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\xe2\x82", "\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Pmo__Project project = PMO__PROJECT__INIT;
        project.name = (char *)bad[i];
        assert (pmo_json_encode (&project.base) == NULL);
        assert (pmo_json_from_message (&project.base) == NULL);
    }
    if (verbose)
        printf ("test_json: %zu messages, %zu bytes of text, the same both ways\n", compared,
                bytes);
    assert (bytes > 100000); //  the filler did fill them
}

int main (int argc, char *argv[])
{
    bool verbose = argc > 1 && strcmp (argv[1], "-v") == 0;
    s_test_enum_labels ();
    s_test_project (verbose);
    s_test_registry_request (verbose);
    s_test_errors ();
    s_test_node (verbose);
    s_test_direct_text (verbose);
    printf ("test_json: ok\n");
    return 0;
}
