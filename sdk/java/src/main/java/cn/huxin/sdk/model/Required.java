package cn.huxin.sdk.model;

import com.fasterxml.jackson.annotation.JacksonAnnotationsInside;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;

/**
 * A field the node always sends (required in the OpenAPI document): an answer without it is an
 * {@link cn.huxin.sdk.AnswerException} naming it. Fields without it may be absent or null.
 * Field names are the document's, in camel case (the mapper reads them as snake case).
 */
@Retention(RetentionPolicy.RUNTIME)
@JacksonAnnotationsInside
@JsonProperty(required = true)
public @interface Required {}
