package cn.huxin.sdk.model;

import cn.huxin.sdk.Codec;
import cn.huxin.sdk.EncodeException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.Map;

/**
 * Decodes a union the SDK itself encodes (a transaction's action, a proposal's change): the JSON
 * is checked against the SDK's own layout of it, so a value this SDK could not re-encode is
 * refused naming the field, and read as its kind (the variant's name) and content.
 */
abstract class Encoded<T> extends StdDeserializer<T> {
    interface Make<T> {
        T of(String kind, JsonNode content, JsonNode json);
    }

    private final Codec.Schema layout;
    private final Make<T> make;

    Encoded(Class<T> type, Codec.Schema layout, Make<T> make) {
        super(type);
        this.layout = layout;
        this.make = make;
    }

    @Override
    public T deserialize(JsonParser parser, DeserializationContext ctx) throws IOException {
        JsonNode json = ctx.readTree(parser);
        try {
            Codec.encode(layout, json);
        } catch (EncodeException e) {
            return ctx.reportInputMismatch(handledType(), "%s", e.getMessage());
        }
        if (json.isTextual()) return make.of(json.asText(), null, json);
        Map.Entry<String, JsonNode> only = json.properties().iterator().next();
        return make.of(only.getKey(), only.getValue(), json);
    }
}
