package cn.huxin.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The canonical encoding (sdk/vectors/ENCODING.md): bincode 2's standard configuration over
 * serde. A value is encoded from its JSON form (as the API shows it) by a {@link Schema} that
 * mirrors the Rust declaration: the field order comes from the schema, never from the JSON.
 */
public final class Codec {
    private Codec() {}

    /** How one value is laid out. */
    public interface Schema {
        void write(Out out, JsonNode value, String field);
    }

    /** Bytes being written. */
    public static final class Out {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        void put(int b) {
            bytes.write(b & 0xff);
        }

        void put(byte[] bs) {
            bytes.writeBytes(bs);
        }

        void littleEndian(long value, int width) {
            for (int i = 0; i < width; i++) put((int) (value >>> (8 * i)));
        }

        /** bincode's varint: below 251 one byte; else a marker and 2, 4 or 8 bytes. */
        void varint(BigInteger v) {
            long value = v.longValue();
            if (v.compareTo(BigInteger.valueOf(251)) < 0) put((int) value);
            else if (v.compareTo(BigInteger.valueOf(0xffff)) <= 0) {
                put(251);
                littleEndian(value, 2);
            } else if (v.compareTo(BigInteger.valueOf(0xffff_ffffL)) <= 0) {
                put(252);
                littleEndian(value, 4);
            } else {
                put(253);
                littleEndian(value, 8);
            }
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }

    private static String at(String field, String inner) {
        return field.isEmpty() ? inner : field + "." + inner;
    }

    private static BigInteger unsigned(JsonNode v, int bits, String field) {
        BigInteger n;
        if (v != null && v.isIntegralNumber()) n = v.bigIntegerValue();
        else if (v != null && v.isTextual() && v.asText().matches("[0-9]+")) n = new BigInteger(v.asText());
        else throw new EncodeException(field, "expected an unsigned integer, got " + v);
        if (n.signum() < 0 || n.bitLength() > bits) throw new EncodeException(field, n + " does not fit in u" + bits);
        return n;
    }

    public static Schema u(int bits) {
        return (out, v, field) -> {
            BigInteger n = unsigned(v, bits, field);
            if (bits == 8) out.put(n.intValue());
            else out.varint(n);
        };
    }

    public static final Schema BOOL = (out, v, field) -> {
        if (v == null || !v.isBoolean()) throw new EncodeException(field, "expected true or false");
        out.put(v.booleanValue() ? 1 : 0);
    };

    public static final Schema STRING = (out, v, field) -> {
        if (v == null || !v.isTextual()) throw new EncodeException(field, "expected a string");
        byte[] utf8 = v.asText().getBytes(StandardCharsets.UTF_8);
        out.varint(BigInteger.valueOf(utf8.length));
        out.put(utf8);
    };

    /** Fixed-length bytes (keys, hashes, signatures), lowercase hex in JSON. */
    public static Schema bytes(int length) {
        return (out, v, field) -> {
            if (v == null || !v.isTextual() || !v.asText().matches("([0-9a-f]{2}){" + length + "}"))
                throw new EncodeException(field, "expected " + length + " bytes as lowercase hex");
            out.varint(BigInteger.valueOf(length));
            out.put(Hex.decode(v.asText()));
        };
    }

    /** Bytes of one of {@code lengths} (a public key: 32 for ed25519, 33 for SM2), length-prefixed. */
    public static Schema bytesOf(int... lengths) {
        return (out, v, field) -> {
            String text = v != null && v.isTextual() ? v.asText() : "";
            boolean fits = text.matches("([0-9a-f]{2})*")
                    && java.util.Arrays.stream(lengths).anyMatch(n -> n * 2 == text.length());
            if (!fits) throw new EncodeException(field, "expected " + java.util.Arrays.toString(lengths) + " bytes as lowercase hex");
            out.varint(BigInteger.valueOf(text.length() / 2));
            out.put(Hex.decode(text));
        };
    }

    public static Schema option(Schema inner) {
        return new Optional(inner);
    }

    private record Optional(Schema inner) implements Schema {
        public void write(Out out, JsonNode v, String field) {
            if (v == null || v.isNull() || v.isMissingNode()) out.put(0);
            else {
                out.put(1);
                inner.write(out, v, field);
            }
        }
    }

    /** A field the JSON may leave out ({@code #[serde(default)]}): then it is {@code value}. */
    public static Schema defaulted(Schema inner, JsonNode value) {
        return new Defaulted(inner, value);
    }

    private record Defaulted(Schema inner, JsonNode value) implements Schema {
        public void write(Out out, JsonNode v, String field) {
            inner.write(out, v == null || v.isMissingNode() ? value : v, field);
        }
    }

    public static Schema list(Schema item) {
        return (out, v, field) -> {
            if (v == null || !v.isArray()) throw new EncodeException(field, "expected a list");
            out.varint(BigInteger.valueOf(v.size()));
            for (int i = 0; i < v.size(); i++) item.write(out, v.get(i), field + "[" + i + "]");
        };
    }

    /** A field of a struct: its name and layout. */
    public record Field(String name, Schema schema) {}

    public static Field f(String name, Schema schema) {
        return new Field(name, schema);
    }

    public static Schema struct(Field... fields) {
        return (out, v, field) -> {
            if (v == null || !v.isObject()) throw new EncodeException(field, "expected an object");
            for (Iterator<String> names = v.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                boolean known = false;
                for (Field f : fields) known |= f.name().equals(name);
                if (!known) throw new EncodeException(field, "unknown field " + name);
            }
            for (Field f : fields) {
                JsonNode inner = v.get(f.name());
                boolean optional = f.schema() instanceof Optional || f.schema() instanceof Defaulted;
                if (inner == null && !optional) throw new EncodeException(at(field, f.name()), "missing");
                f.schema().write(out, inner, at(field, f.name()));
            }
        };
    }

    /** A variant of an enum: its name and its content's layout ({@code null}: a unit variant). */
    public record Variant(String name, Schema schema) {}

    public static Variant v(String name, Schema schema) {
        return new Variant(name, schema);
    }

    public static Variant v(String name) {
        return new Variant(name, null);
    }

    /** An enum: a unit variant is its name in JSON, any other {@code {name: content}}. */
    public static Schema enumOf(Variant... variants) {
        return (out, v, field) -> {
            String name = null;
            JsonNode content = null;
            if (v != null && v.isTextual()) name = v.asText();
            else if (v != null && v.isObject() && v.size() == 1) {
                Map.Entry<String, JsonNode> only = v.properties().iterator().next();
                name = only.getKey();
                content = only.getValue();
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < variants.length; i++) {
                names.add(variants[i].name());
                if (!variants[i].name().equals(name)) continue;
                out.varint(BigInteger.valueOf(i));
                if (variants[i].schema() == null) {
                    if (content != null) throw new EncodeException(at(field, name), "a unit variant carries nothing");
                    return;
                }
                variants[i].schema().write(out, content, at(field, name));
                return;
            }
            throw new EncodeException(field, "expected one of " + String.join(", ", names) + ", got " + v);
        };
    }

    /** A schema defined later (a recursive or forward reference). */
    public static Schema lazy(Supplier<Schema> schema) {
        return (out, v, field) -> schema.get().write(out, v, field);
    }

    /** The canonical bytes of {@code value} laid out by {@code schema}. */
    public static byte[] encode(Schema schema, JsonNode value) {
        Out out = new Out();
        schema.write(out, value, "");
        return out.toByteArray();
    }
}
