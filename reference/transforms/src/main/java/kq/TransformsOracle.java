package kq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

/**
 * Kafka's (and Debezium's) transforms as an oracle for sink::connect::transforms. One request
 * per stdin line, a JSON object: "config" (the connector's transforms and predicates keys as
 * strings) and "record" (topic, partition, offset, timestamp or null, key and value as
 * JsonConverter envelopes or null, headers as [{"key":k,"value":envelope}]). The chain is built
 * as a Connect worker builds it (predicate, negate) and applied once. One answer per line:
 * "DROPPED", "CONFIG <exception>: <message>", "ERROR <exception>: <message>", or
 * "topic=T | key=SCHEMA = VALUE | value=SCHEMA = VALUE | headers=[k:SCHEMA = VALUE,...]" in the
 * canonical form of reference/canonical (Canonical.TRANSFORMED: struct fields without their defaults).
 */
public final class TransformsOracle {
  public static void main(String[] args) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    JsonConverter converter = new JsonConverter();
    Map<String, Object> settings = new HashMap<>();
    settings.put("schemas.enable", "true");
    converter.configure(settings, false);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String answer;
      try {
        answer = handle(mapper.readTree(line), converter);
      } catch (Throwable e) {
        answer = "ERROR " + describe(e);
      }
      out.write(answer.replace('\n', ' ').replace('\r', ' '));
      out.write('\n');
      out.flush();
    }
  }

  static String describe(Throwable e) {
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  static final class Stage {
    Transformation<SinkRecord> transform;
    Predicate<SinkRecord> predicate;
    boolean negate;
  }

  @SuppressWarnings("unchecked")
  static String handle(JsonNode request, JsonConverter converter) {
    Map<String, String> config = new HashMap<>();
    request.get("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
    List<Stage> stages = new ArrayList<>();
    try {
      Map<String, Predicate<SinkRecord>> predicates = new HashMap<>();
      for (String name : list(config.get("predicates"))) {
        Predicate<SinkRecord> p =
            (Predicate<SinkRecord>) instance(config.get("predicates." + name + ".type"));
        p.configure(sub(config, "predicates." + name + "."));
        predicates.put(name, p);
      }
      for (String name : list(config.get("transforms"))) {
        String prefix = "transforms." + name + ".";
        Stage s = new Stage();
        s.transform = (Transformation<SinkRecord>) instance(config.get(prefix + "type"));
        s.transform.configure(sub(config, prefix));
        String p = config.get(prefix + "predicate");
        if (p != null && !p.trim().isEmpty()) {
          s.predicate = predicates.get(p.trim());
          s.negate = Boolean.parseBoolean(config.getOrDefault(prefix + "negate", "false").trim());
        }
        stages.add(s);
      }
    } catch (Throwable e) {
      return "CONFIG " + describe(e);
    }
    JsonNode r = request.get("record");
    SchemaAndValue key = decode(converter, r.get("key"));
    SchemaAndValue value = decode(converter, r.get("value"));
    ConnectHeaders headers = new ConnectHeaders();
    for (JsonNode h : r.get("headers")) {
      SchemaAndValue hv = decode(converter, h.get("value"));
      headers.add(h.get("key").asText(), hv);
    }
    Long timestamp = r.get("timestamp").isNull() ? null : r.get("timestamp").asLong();
    SinkRecord record = new SinkRecord(r.get("topic").asText(), r.get("partition").asInt(),
        key.schema(), key.value(), value.schema(), value.value(), r.get("offset").asLong(),
        timestamp, TimestampType.CREATE_TIME, headers);
    try {
      for (Stage s : stages) {
        if (s.predicate == null || (s.predicate.test(record) ^ s.negate)) {
          record = s.transform.apply(record);
          if (record == null) {
            return "DROPPED";
          }
        }
      }
    } catch (Throwable e) {
      return "ERROR " + describe(e);
    }
    StringBuilder b = new StringBuilder();
    b.append("topic=").append(Canonical.string(record.topic()));
    Canonical c = Canonical.TRANSFORMED;
    b.append(" | key=").append(c.schema(record.keySchema())).append(" = ")
        .append(c.value(record.keySchema(), record.key()));
    b.append(" | value=").append(c.schema(record.valueSchema())).append(" = ")
        .append(c.value(record.valueSchema(), record.value()));
    List<String> hs = new ArrayList<>();
    for (Header h : record.headers()) {
      hs.add(Canonical.string(h.key()) + ":" + c.schema(h.schema()) + " = " + c.value(h.schema(), h.value()));
    }
    b.append(" | headers=[").append(String.join(",", hs)).append(']');
    return b.toString();
  }

  static SchemaAndValue decode(JsonConverter converter, JsonNode envelope) {
    if (envelope == null || envelope.isNull()) {
      return SchemaAndValue.NULL;
    }
    return converter.toConnectData("oracle", envelope.toString().getBytes(StandardCharsets.UTF_8));
  }

  static Object instance(String className) throws Exception {
    if (className == null) {
      throw new IllegalArgumentException("no type");
    }
    return Class.forName(className.trim()).getDeclaredConstructor().newInstance();
  }

  static List<String> list(String value) {
    List<String> out = new ArrayList<>();
    if (value == null || value.trim().isEmpty()) {
      return out;
    }
    for (String s : value.trim().split("\\s*,\\s*", -1)) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  static Map<String, String> sub(Map<String, String> config, String prefix) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, String> e : config.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        out.put(e.getKey().substring(prefix.length()), e.getValue());
      }
    }
    return out;
  }
}
