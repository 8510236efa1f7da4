package cn.huxin.sdk.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes the ledger's tagged unions as the node writes them (serde's external tagging): a unit
 * variant is its name as a string ({@code "applied"}), any other an object of one key, the name,
 * holding the variant's value ({@code {"rejected": {...}}}). A union is a sealed interface whose
 * variants are records; its decoder names each variant and says how its value reads. A struct
 * variant carries a plain {@code @JsonDeserialize}, so that it reads as a record rather than
 * through the union's decoder it would otherwise inherit.
 */
public abstract class Tagged<T> extends StdDeserializer<T> {
    /** How a variant's value reads. */
    public enum Shape {
        /** No value: the name alone. */
        UNIT,
        /** The value is the record's one component ({@code {"organisation": "9133..."}}). */
        NEWTYPE,
        /** The value is an object of the record's fields. */
        STRUCT
    }

    public record Variant(Class<?> type, Shape shape) {}

    private final Map<String, Variant> variants = new LinkedHashMap<>();

    protected Tagged(Class<T> union) {
        super(union);
    }

    /** Declare a variant (in the constructor of the union's decoder). */
    protected final Tagged<T> variant(String name, Class<? extends T> type, Shape shape) {
        JsonDeserialize own = type.getDeclaredAnnotation(JsonDeserialize.class);
        if (shape == Shape.STRUCT && (own == null || own.using() != JsonDeserializer.None.class))
            throw new IllegalStateException(type + ": a struct variant needs its own plain @JsonDeserialize");
        variants.put(name, new Variant(type, shape));
        return this;
    }

    /** The variants by name, in declaration order. */
    public final Map<String, Variant> variants() {
        return Map.copyOf(variants);
    }

    @Override
    public T deserialize(JsonParser parser, DeserializationContext ctx) throws IOException {
        JsonNode tree = ctx.readTree(parser);
        String name;
        JsonNode value;
        if (tree.isTextual()) {
            name = tree.asText();
            value = null;
        } else if (tree.isObject() && tree.size() == 1) {
            Map.Entry<String, JsonNode> only = tree.properties().iterator().next();
            name = only.getKey();
            value = only.getValue();
        } else {
            return fail(ctx, "expected a variant name or an object of one variant, got " + tree);
        }
        Variant variant = variants.get(name);
        if (variant == null) return fail(ctx, "unknown variant " + name);
        if ((variant.shape() == Shape.UNIT) != (value == null))
            return fail(ctx, "variant " + name + (value == null ? " needs a value" : " takes no value"));
        try {
            Object decoded = switch (variant.shape()) {
                case UNIT -> variant.type().getDeclaredConstructor().newInstance();
                case NEWTYPE -> {
                    var component = variant.type().getRecordComponents()[0];
                    Object inner = ctx.readTreeAsValue(value, ctx.getTypeFactory().constructType(component.getGenericType()));
                    yield variant.type().getDeclaredConstructor(component.getType()).newInstance(inner);
                }
                case STRUCT -> ctx.readTreeAsValue(value, variant.type());
            };
            return handledType().isInstance(decoded) ? cast(decoded) : fail(ctx, name + " is not a " + handledType());
        } catch (JsonMappingException e) {
            throw JsonMappingException.wrapWithPath(e, tree, name);
        } catch (InstantiationException | IllegalAccessException | NoSuchMethodException e) {
            throw new IllegalStateException("the SDK's variant " + variant.type() + " cannot be built", e);
        } catch (InvocationTargetException e) {
            return fail(ctx, name + ": " + e.getCause().getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private T cast(Object decoded) {
        return (T) decoded;
    }

    private T fail(DeserializationContext ctx, String reason) throws JsonMappingException {
        return ctx.reportInputMismatch(handledType(), "%s", reason);
    }
}
