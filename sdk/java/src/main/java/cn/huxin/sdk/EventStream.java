package cn.huxin.sdk;

import cn.huxin.sdk.model.Chain;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Server-sent events as the node writes them (the OpenAPI document's {@code /v1/events}): an
 * {@code id} ({@code height:index}, to resume after with {@code Last-Event-ID}), an event name
 * (the transaction kind) and one JSON {@code data} line, the {@link Chain.Event}.
 */
final class EventStream implements Iterator<HuxinClient.Event> {
    private final Iterator<String> lines;
    private HuxinClient.Event ready;

    EventStream(Iterator<String> lines) {
        this.lines = lines;
    }

    @Override
    public boolean hasNext() {
        String id = null, kind = "message";
        StringBuilder data = null;
        while (ready == null && lines.hasNext()) {
            String line = lines.next();
            if (line.isEmpty()) {
                if (data != null) ready = new HuxinClient.Event(id, kind, decode(id, data.toString()));
                id = null;
                kind = "message";
                data = null;
            } else if (line.startsWith("id:")) id = line.substring(3).trim();
            else if (line.startsWith("event:")) kind = line.substring(6).trim();
            else if (line.startsWith("data:")) {
                String chunk = line.substring(5).replaceFirst("^ ", "");
                data = data == null ? new StringBuilder(chunk) : data.append('\n').append(chunk);
            }
        }
        return ready != null;
    }

    private static Chain.Event decode(String id, String data) {
        JsonNode json;
        try {
            json = Answers.JSON.readTree(data);
        } catch (IOException e) {
            throw new AnswerException("data", "event " + id + " is not JSON");
        }
        return Answers.as(json, Chain.Event.class);
    }

    @Override
    public HuxinClient.Event next() {
        if (!hasNext()) throw new NoSuchElementException();
        HuxinClient.Event e = ready;
        ready = null;
        return e;
    }
}
