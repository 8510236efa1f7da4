package cn.huxin.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import cn.huxin.sdk.model.Chain;
import cn.huxin.sdk.model.Credit;
import cn.huxin.sdk.model.Deals;
import cn.huxin.sdk.model.Governance;
import cn.huxin.sdk.model.Guarantees;
import cn.huxin.sdk.model.Proofs;
import cn.huxin.sdk.model.Required;
import cn.huxin.sdk.model.Subjects;
import cn.huxin.sdk.model.Supervision;
import cn.huxin.sdk.model.Tagged;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The typed models against the OpenAPI document (sdk/vectors/openapi.json, which the Rust core
 * writes): every schema an answer uses has a model with the same fields, the same required
 * fields, nullable fields boxed, the same types, enums with the same values and unions with the
 * same variants. A change to the document that the models do not follow fails here, naming it.
 */
class ModelTest {
    private static final Class<?>[] HOLDERS = {
        Chain.class, Credit.class, Deals.class, Governance.class, Guarantees.class, Proofs.class, Subjects.class,
        Supervision.class
    };

    /** Schemas the document composes with allOf into the model named here, never answered alone. */
    private static final Map<String, String> FLATTENED =
            Map.of("CreditRecord", "CreditItem", "GuaranteeRecord", "GuaranteeView", "Eligibility", "EligibilityView");

    /** Unions of every transaction kind: read as kind + JSON, checked by the SDK's own encoder. */
    private static final Set<String> ENCODER_CHECKED = Set.of("Action", "ProposalAction");

    private static final PropertyNamingStrategies.SnakeCaseStrategy SNAKE = new PropertyNamingStrategies.SnakeCaseStrategy();

    private final JsonNode schemas;
    private final Map<String, Class<?>> models = new HashMap<>();
    private final Set<String> checked = new TreeSet<>();
    private final List<String> problems = new ArrayList<>();

    ModelTest() throws IOException {
        schemas = VectorsTest.vectors("openapi.json").get("components").get("schemas");
        for (Class<?> holder : HOLDERS)
            for (Class<?> model : holder.getDeclaredClasses()) models.put(model.getSimpleName(), model);
    }

    private static String refName(JsonNode schema) {
        JsonNode ref = schema.get("$ref");
        return ref == null ? null : ref.asText().substring(ref.asText().lastIndexOf('/') + 1);
    }

    private JsonNode resolve(JsonNode schema) {
        String name = refName(schema);
        return name == null ? schema : schemas.get(name);
    }

    /** The schema without its null alternative ({@code oneOf [null, X]}, {@code type [T, "null"]}), or null if not nullable. */
    private static JsonNode nonNull(JsonNode schema) {
        JsonNode oneOf = schema.get("oneOf");
        if (oneOf != null && oneOf.size() == 2 && "null".equals(oneOf.get(0).path("type").asText())) return oneOf.get(1);
        JsonNode type = schema.get("type");
        if (type != null && type.isArray() && type.size() == 2 && type.get(1).asText().equals("null")) {
            JsonNode copy = schema.deepCopy();
            ((com.fasterxml.jackson.databind.node.ObjectNode) copy).set("type", type.get(0));
            return copy;
        }
        return null;
    }

    private static boolean isScalar(JsonNode s) {
        return s.has("type") && s.get("type").isTextual() && !s.get("type").asText().equals("object")
                && !s.get("type").asText().equals("array") && !s.has("enum");
    }

    /** The properties of an object schema, allOf parts merged, and which are required. */
    private void flatten(JsonNode schema, Map<String, JsonNode> properties, Set<String> required) {
        schema = resolve(schema);
        if (schema.has("allOf")) {
            for (JsonNode part : schema.get("allOf")) flatten(part, properties, required);
            return;
        }
        schema.path("properties").properties().forEach(e -> properties.put(e.getKey(), e.getValue()));
        schema.path("required").forEach(r -> required.add(r.asText()));
    }

    /** Check the answer schema {@code name} (and all it uses) against its model. */
    private void check(String name) {
        if (!checked.add(name)) return;
        JsonNode schema = schemas.get(name);
        if (isScalar(schema)) return;
        if (name.startsWith("Page_")) {
            checkFields(name, schema, Proofs.Page.class, Set.of("items"));
            checkObject(name + ".items", schema.get("properties").get("items").get("items"), model(name.substring(5)));
            return;
        }
        if (name.startsWith("Proven_")) {
            Map<String, JsonNode> properties = new TreeMap<>();
            flatten(schema, properties, new TreeSet<>());
            checkType(name + ".proof", properties.get("proof"), Proofs.StateProof.class, false);
            checkObject(name, schema, model(name.substring(7)));
            return;
        }
        Class<?> model = model(FLATTENED.getOrDefault(name, name));
        if (model == null || ENCODER_CHECKED.contains(name) || FLATTENED.containsKey(name)) return;
        if (schema.has("enum")) {
            checkEnum(name, schema, model);
        } else if (schema.has("oneOf")) {
            checkUnion(name, schema, model);
        } else {
            checkObject(name, schema, model);
        }
    }

    private Class<?> model(String name) {
        Class<?> model = models.get(name);
        if (model == null) problems.add(name + ": no model");
        return model;
    }

    private void checkEnum(String name, JsonNode schema, Class<?> model) {
        List<String> values = new ArrayList<>();
        schema.get("enum").forEach(v -> values.add(v.asText()));
        List<String> constants = model.isEnum()
                ? Arrays.stream(model.getEnumConstants()).map(c -> c.toString().toLowerCase()).toList()
                : List.of();
        if (!values.equals(constants)) problems.add(name + ": enum " + values + ", model " + constants);
    }

    private void checkUnion(String name, JsonNode schema, Class<?> model) {
        JsonDeserialize using = model.getAnnotation(JsonDeserialize.class);
        Tagged<?> decoder;
        try {
            decoder = (Tagged<?>) using.using().getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException | NullPointerException e) {
            problems.add(name + ": the model is not a tagged union: " + e);
            return;
        }
        Map<String, Tagged.Variant> variants = decoder.variants();
        Set<String> documented = new LinkedHashSet<>();
        for (JsonNode alternative : schema.get("oneOf")) {
            String variant;
            Tagged.Shape shape;
            JsonNode value = null;
            if (alternative.has("enum")) {
                variant = alternative.get("enum").get(0).asText();
                shape = Tagged.Shape.UNIT;
            } else {
                variant = alternative.get("properties").fieldNames().next();
                value = alternative.get("properties").get(variant);
                shape = resolve(value).has("properties") && refName(value) == null ? Tagged.Shape.STRUCT : Tagged.Shape.NEWTYPE;
            }
            documented.add(variant);
            Tagged.Variant declared = variants.get(variant);
            String at = name + "." + variant;
            if (declared == null) {
                problems.add(at + ": no variant in the model");
            } else if (declared.shape() != shape) {
                problems.add(at + ": " + shape + " in the document, " + declared.shape() + " in the model");
            } else if (shape == Tagged.Shape.STRUCT) {
                checkObject(at, value, declared.type());
            } else if (shape == Tagged.Shape.NEWTYPE) {
                RecordComponent only = declared.type().getRecordComponents()[0];
                checkType(at, value, only.getGenericType(), true);
            }
        }
        if (!documented.equals(variants.keySet())) problems.add(name + ": variants " + documented + ", model " + variants.keySet());
    }

    private void checkObject(String at, JsonNode schema, Class<?> model) {
        if (model != null) checkFields(at, schema, model, Set.of());
    }

    /** The model's fields against the schema's properties, but for {@code skip}. */
    private void checkFields(String at, JsonNode schema, Class<?> model, Set<String> skip) {
        Map<String, JsonNode> properties = new TreeMap<>();
        Set<String> required = new TreeSet<>();
        flatten(schema, properties, required);
        if (at.startsWith("Proven_")) properties.remove("proof");
        Map<String, RecordComponent> fields = new TreeMap<>();
        if (model.getRecordComponents() == null) {
            problems.add(at + ": the model " + model.getSimpleName() + " is not a record");
            return;
        }
        for (RecordComponent c : model.getRecordComponents()) fields.put(SNAKE.translate(c.getName()), c);
        if (!properties.keySet().equals(fields.keySet())) {
            problems.add(at + ": fields " + properties.keySet() + ", model " + model.getSimpleName() + " " + fields.keySet());
            return;
        }
        for (var e : properties.entrySet()) {
            if (skip.contains(e.getKey())) continue;
            RecordComponent field = fields.get(e.getKey());
            boolean isRequired = required.contains(e.getKey());
            if (isRequired != field.isAnnotationPresent(Required.class))
                problems.add(at + "." + e.getKey() + ": required " + isRequired + " in the document, not in the model");
            checkType(at + "." + e.getKey(), e.getValue(), field.getGenericType(), isRequired);
        }
    }

    /** One value's schema against its Java type. */
    private void checkType(String at, JsonNode schema, Type type, boolean required) {
        JsonNode inner = nonNull(schema);
        boolean nullable = inner != null || !required;
        if (inner != null) schema = inner;
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (nullable && raw.isPrimitive()) {
            problems.add(at + ": may be absent or null, but the model's type is " + raw);
            return;
        }
        String name = refName(schema);
        JsonNode resolved = resolve(schema);
        if (name != null && !isScalar(resolved)) {
            String expected = FLATTENED.getOrDefault(name, name);
            if (name.startsWith("Page_") || name.startsWith("Proven_")) expected = raw.getSimpleName();
            if (!raw.getSimpleName().equals(expected)) problems.add(at + ": " + name + " in the document, " + raw.getSimpleName() + " in the model");
            check(name);
            return;
        }
        if (resolved.isEmpty()) {
            if (raw != JsonNode.class) problems.add(at + ": any JSON in the document, " + raw + " in the model");
            return;
        }
        if (resolved.has("allOf")) {
            check(raw.getSimpleName());
            checkObject(at, resolved, raw);
            return;
        }
        JsonNode typeName = resolved.get("type");
        String kind = typeName == null ? "?" : typeName.asText();
        switch (kind) {
            case "string" -> {
                if (raw != String.class) problems.add(at + ": a string in the document, " + raw + " in the model");
            }
            case "boolean" -> {
                if (raw != boolean.class && raw != Boolean.class) problems.add(at + ": a boolean in the document, " + raw + " in the model");
            }
            case "integer" -> {
                // A region code is six digits (GB/T 2260); other integers fit an int only if their maximum does.
                boolean fitsInt = resolved.path("maximum").asDouble(Double.MAX_VALUE) <= Integer.MAX_VALUE
                        || "RegionCode".equals(name);
                Set<Class<?>> fits = fitsInt ? Set.of(int.class, Integer.class, long.class, Long.class) : Set.of(long.class, Long.class);
                if (!fits.contains(raw)) problems.add(at + ": an integer in the document, " + raw + " in the model");
            }
            case "array" -> {
                if (resolved.has("prefixItems")) {
                    JsonFormat format = raw.getAnnotation(JsonFormat.class);
                    if (format == null || format.shape() != JsonFormat.Shape.ARRAY || raw.getRecordComponents() == null) {
                        problems.add(at + ": a tuple in the document, " + raw + " in the model");
                        return;
                    }
                    RecordComponent[] parts = raw.getRecordComponents();
                    if (parts.length != resolved.get("prefixItems").size()) {
                        problems.add(at + ": a tuple of " + resolved.get("prefixItems").size() + ", model " + parts.length);
                        return;
                    }
                    for (int i = 0; i < parts.length; i++)
                        checkType(at + "[" + i + "]", resolved.get("prefixItems").get(i), parts[i].getGenericType(), true);
                    return;
                }
                if (raw != List.class || !(type instanceof ParameterizedType p)) {
                    problems.add(at + ": a list in the document, " + type + " in the model");
                    return;
                }
                checkType(at + "[]", resolved.get("items"), p.getActualTypeArguments()[0], true);
            }
            default -> problems.add(at + ": a schema this test does not know: " + resolved);
        }
    }

    @Test
    void everyAnswerOfTheDocumentHasAModelThatMatchesIt() throws IOException {
        JsonNode paths = VectorsTest.vectors("openapi.json").get("paths");
        int operations = 0;
        for (JsonNode path : paths) {
            for (String method : List.of("get", "post")) {
                JsonNode operation = path.get(method);
                if (operation == null) continue;
                operations++;
                operation.get("responses").properties().forEach(response -> {
                    if (!response.getKey().startsWith("2")) return;
                    JsonNode content = response.getValue().path("content");
                    JsonNode json = content.path("application/json").path("schema");
                    // A free-form JSON object (a W3C credential, its status lists): read as JsonNode.
                    boolean freeForm = "object".equals(json.path("type").asText()) && !json.has("properties");
                    if (!json.isMissingNode() && !freeForm) {
                        String name = refName(json);
                        if (name != null) check(name);
                        else checkType(operation.get("operationId").asText(), json, listOf(json), true);
                    }
                    JsonNode events = content.path("text/event-stream").path("schema").path("properties").path("data");
                    if (!events.isMissingNode()) check(refName(events.get("contentSchema")));
                });
            }
        }
        assertEquals(40, operations);
        assertTrue(checked.containsAll(Set.of("StatusView", "Page_CreditItem", "Proven_TenderView", "Event", "RejectCode")), checked.toString());
        assertTrue(checked.size() >= 80, checked.size() + " schemas checked: " + checked);
        if (!problems.isEmpty()) fail(problems.size() + " differences:\n" + String.join("\n", problems));
    }

    /** {@code List<Model>} for an answer that is a bare array of a model ({@code /v1/members}). */
    private Type listOf(JsonNode array) {
        Class<?> item = models.get(refName(array.get("items")));
        assertNotNull(item, "no model for " + array);
        return new ParameterizedType() {
            public Type[] getActualTypeArguments() {
                return new Type[] {item};
            }

            public Type getRawType() {
                return List.class;
            }

            public Type getOwnerType() {
                return null;
            }
        };
    }

    @Test
    void theCheckCatchesAModelThatDiffers() throws IOException {
        // A document whose Lifted gained a required field and lost "by": both are named.
        var copy = (com.fasterxml.jackson.databind.node.ObjectNode) schemas.get("Lifted").deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("properties")).remove("by");
        ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("properties")).putObject("added").put("type", "string");
        checkObject("Lifted", copy, Subjects.Lifted.class);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("[added, height, reason, time]"), problems.get(0));
    }

    @Test
    void unionsDecodeEveryVariantAndNameWhatIsWrong() throws IOException {
        var json = Answers.JSON;
        assertEquals(new Subjects.SubjectId.Organisation("91330100MB0500000B"),
                HuxinClient.decode(json.readTree("{\"organisation\": \"91330100MB0500000B\"}"), Subjects.SubjectId.class));
        assertEquals(new Chain.Outcome.Applied(), HuxinClient.decode(json.readTree("\"applied\""), Chain.Outcome.class));
        Chain.Outcome rejected = HuxinClient.decode(
                json.readTree("{\"rejected\": {\"code\": \"bad_nonce\", \"reason\": \"expected 3\"}}"), Chain.Outcome.class);
        assertEquals(Chain.RejectCode.BAD_NONCE, ((Chain.Outcome.Rejected) rejected).rejection().code());
        assertEquals(new Governance.ProposalStatus.Failed(7, "x"),
                HuxinClient.decode(json.readTree("{\"failed\": {\"height\": 7, \"reason\": \"x\"}}"), Governance.ProposalStatus.class));
        assertEquals(new Deals.PayerApplicant("A", "B"), HuxinClient.decode(json.readTree("[\"A\", \"B\"]"), Deals.PayerApplicant.class));
        AnswerException unknown = assertThrows(AnswerException.class,
                () -> HuxinClient.decode(json.readTree("{\"rejected\": {\"code\": \"no_such_code\", \"reason\": \"\"}}"), Chain.Outcome.class));
        assertEquals("rejected.code", unknown.field(), unknown.getMessage());
        AnswerException missing = assertThrows(AnswerException.class,
                () -> HuxinClient.decode(json.readTree("{\"failed\": {\"height\": 7}}"), Governance.ProposalStatus.class));
        assertEquals("failed.reason", missing.field(), missing.getMessage());
        assertThrows(AnswerException.class, () -> HuxinClient.decode(json.readTree("\"opened\""), Governance.ProposalStatus.class));
        assertThrows(AnswerException.class, () -> HuxinClient.decode(json.readTree("{\"a\": 1, \"b\": 2}"), Chain.Outcome.class));
        // A transaction's action is checked by the SDK's encoder, which names the field.
        AnswerException action = assertThrows(AnswerException.class, () -> HuxinClient.decode(
                json.readTree("{\"chain_id\": \"c\", \"signer\": \"" + "ab".repeat(32) + "\", \"nonce\": 1,"
                        + " \"expiry\": {\"height\": 9}, \"action\": {\"vote\": {\"proposal\": \"00\", \"approve\": true}}}"),
                Chain.TxBody.class));
        assertEquals("action", action.field(), action.getMessage());
        assertTrue(action.getMessage().contains("vote.proposal"), action.getMessage());
    }
}
