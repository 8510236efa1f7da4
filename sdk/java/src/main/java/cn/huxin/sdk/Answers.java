package cn.huxin.sdk;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reading the node's answers into the typed models of {@code cn.huxin.sdk.model}: names in snake
 * case, enums by their lower-case names, fields added later ignored (an older SDK keeps working),
 * and a missing or mistyped field an {@link AnswerException} that names it.
 */
final class Answers {
    private Answers() {}

    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private static final Pattern QUOTED = Pattern.compile("'([^']+)'");

    static <T> T as(JsonNode answer, Class<T> type) {
        return as(answer, JSON.constructType(type));
    }

    static <T> T as(JsonNode answer, JavaType type) {
        try {
            return JSON.treeToValue(answer, type);
        } catch (MismatchedInputException e) {
            String field = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."))
                    .replace(".[", "[");
            String message = e.getOriginalMessage();
            // A missing required field may be reported on its parent; its name is quoted in the message.
            Matcher quoted = QUOTED.matcher(message);
            if (message.startsWith("Missing required creator property") && quoted.find()
                    && !field.equals(quoted.group(1)) && !field.endsWith("." + quoted.group(1)))
                field = field.isEmpty() ? quoted.group(1) : field + "." + quoted.group(1);
            throw new AnswerException(field.isEmpty() ? type.getRawClass().getSimpleName() : field, message);
        } catch (IOException e) {
            throw new AnswerException(type.getRawClass().getSimpleName(), e.getMessage());
        }
    }
}
