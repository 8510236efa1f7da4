package cn.huxin.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Server-sent events as the node writes them ({@code /v1/events}, {@code /v1/supervisor/rings/events}):
 * an {@code id} (to resume after with {@code Last-Event-ID}), an event name and one JSON
 * {@code data} line, which {@code decoder} turns into the stream's item.
 */
final class EventStream<E> implements Iterator<E> {
    /** One event's id, name and JSON data as the stream's item (checked against its model). */
    interface Decoder<E> {
        E decode(String id, String kind, JsonNode data);
    }

    private final Iterator<String> lines;
    private final Decoder<E> decoder;
    private E ready;

    EventStream(Iterator<String> lines, Decoder<E> decoder) {
        this.lines = lines;
        this.decoder = decoder;
    }

    @Override
    public boolean hasNext() {
        String id = null, kind = "message";
        StringBuilder data = null;
        while (ready == null && lines.hasNext()) {
            String line = lines.next();
            if (line.isEmpty()) {
                if (data != null) ready = decoder.decode(id, kind, json(id, data.toString()));
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

    private static JsonNode json(String id, String data) {
        try {
            return Answers.JSON.readTree(data);
        } catch (IOException e) {
            throw new AnswerException("data", "event " + id + " is not JSON");
        }
    }

    @Override
    public E next() {
        if (!hasNext()) throw new NoSuchElementException();
        E e = ready;
        ready = null;
        return e;
    }
}
