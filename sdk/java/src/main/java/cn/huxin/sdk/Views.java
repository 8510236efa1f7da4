package cn.huxin.sdk;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The node's main answers as typed records (the OpenAPI document, sdk/vectors/openapi.json,
 * describes them whole). A field the node no longer sends is an {@link AnswerException}; fields
 * added later are ignored, so an older SDK keeps working. Nested records the SDK does not model
 * yet stay JSON trees.
 */
public final class Views {
    private Views() {}

    /** May a subject trade in a region (at a time), with every reason it may not. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Eligibility(
            @JsonProperty(value = "subject", required = true) JsonNode subject,
            @JsonProperty(value = "region", required = true) int region,
            @JsonProperty(value = "height", required = true) long height,
            @JsonProperty(value = "time", required = true) long time,
            @JsonProperty(value = "eligible", required = true) boolean eligible,
            @JsonProperty(value = "reasons", required = true) List<String> reasons) {}

    /** The attestation of a subject by its home centre. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Attestation(
            @JsonProperty(value = "name", required = true) String name,
            @JsonProperty(value = "kind", required = true) String kind,
            @JsonProperty(value = "home_region", required = true) int homeRegion,
            @JsonProperty(value = "version", required = true) int version,
            @JsonProperty("bound_key") String boundKey) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Score(
            @JsonProperty(value = "score", required = true) int score,
            @JsonProperty(value = "items", required = true) List<JsonNode> items) {}

    /** A subject's profile: attestation (null when none), blacklist entries, score, grants. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Subject(
            @JsonProperty(value = "subject", required = true) JsonNode subject,
            @JsonProperty(value = "height", required = true) long height,
            @JsonProperty(value = "time", required = true) long time,
            @JsonProperty("attestation") Attestation attestation,
            @JsonProperty(value = "blacklist", required = true) List<JsonNode> blacklist,
            @JsonProperty(value = "score", required = true) Score score,
            @JsonProperty(value = "active_credit_records", required = true) int activeCreditRecords) {}

    /** A subject's public credit history. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record CreditHistory(
            @JsonProperty(value = "subject", required = true) JsonNode subject,
            @JsonProperty(value = "height", required = true) long height,
            @JsonProperty(value = "time", required = true) long time,
            @JsonProperty(value = "records", required = true) List<JsonNode> records) {}

    /** An e-guarantee with the state in force at the answer's time. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Guarantee(
            @JsonProperty(value = "current_state", required = true) String currentState,
            @JsonProperty(value = "height", required = true) long height,
            @JsonProperty(value = "time", required = true) long time,
            @JsonProperty(value = "guarantee", required = true) JsonNode guarantee,
            @JsonProperty(value = "history", required = true) List<JsonNode> history) {}
}
