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
 * canonical form of reference/jsonconverter (struct fields rendered without their defaults).
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
    b.append("topic=").append(string(record.topic()));
    b.append(" | key=").append(schema(record.keySchema())).append(" = ")
        .append(value(record.keySchema(), record.key()));
    b.append(" | value=").append(schema(record.valueSchema())).append(" = ")
        .append(value(record.valueSchema(), record.value()));
    List<String> hs = new ArrayList<>();
    for (Header h : record.headers()) {
      hs.add(string(h.key()) + ":" + schema(h.schema()) + " = " + value(h.schema(), h.value()));
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

  static String schema(Schema s) {
    if (s == null) {
      return "-";
    }
    StringBuilder b = new StringBuilder();
    switch (s.type()) {
      case INT8: b.append("int8"); break;
      case INT16: b.append("int16"); break;
      case INT32: b.append("int32"); break;
      case INT64: b.append("int64"); break;
      case FLOAT32: b.append("float"); break;
      case FLOAT64: b.append("double"); break;
      case BOOLEAN: b.append("boolean"); break;
      case STRING: b.append("string"); break;
      case BYTES: b.append("bytes"); break;
      case ARRAY: b.append("array<").append(schema(s.valueSchema())).append('>'); break;
      case MAP:
        b.append("map<").append(schema(s.keySchema())).append(',')
            .append(schema(s.valueSchema())).append('>');
        break;
      case STRUCT:
        b.append("struct{");
        List<String> fields = new ArrayList<>();
        for (Field f : s.fields()) {
          fields.add(string(f.name()) + ":" + schema(f.schema()));
        }
        b.append(String.join(",", fields)).append('}');
        break;
      default: b.append(s.type());
    }
    if (s.isOptional()) {
      b.append('?');
    }
    if (s.name() != null) {
      b.append('@').append(string(s.name()));
    }
    if (s.version() != null) {
      b.append('#').append(s.version());
    }
    if (s.parameters() != null && !s.parameters().isEmpty()) {
      List<String> params = new ArrayList<>();
      for (Map.Entry<String, String> e : new TreeMap<>(s.parameters()).entrySet()) {
        params.add(string(e.getKey()) + "=" + string(e.getValue()));
      }
      b.append('(').append(String.join(",", params)).append(')');
    }
    if (s.defaultValue() != null) {
      b.append('=').append(value(s, s.defaultValue()));
    }
    return b.toString();
  }

  static String value(Schema s, Object v) {
    if (v == null) {
      return "null";
    }
    if (s == null) {
      return untyped(v);
    }
    if (v instanceof BigDecimal) {
      BigDecimal d = (BigDecimal) v;
      return "dec(" + d.unscaledValue() + "," + d.scale() + ")";
    }
    if (v instanceof java.util.Date) {
      return "ms(" + ((java.util.Date) v).getTime() + ")";
    }
    switch (s.type()) {
      case ARRAY: {
        List<String> items = new ArrayList<>();
        for (Object item : (List<?>) v) {
          items.add(value(s.valueSchema(), item));
        }
        return "[" + String.join(",", items) + "]";
      }
      case MAP: {
        TreeMap<String, String> entries = new TreeMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
          entries.put(value(s.keySchema(), e.getKey()), value(s.valueSchema(), e.getValue()));
        }
        List<String> items = new ArrayList<>();
        entries.forEach((k, x) -> items.add(k + ":" + x));
        return "{" + String.join(",", items) + "}";
      }
      case STRUCT: {
        Struct struct = (Struct) v;
        List<String> items = new ArrayList<>();
        for (Field f : s.fields()) {
          items.add(string(f.name()) + "=" + value(f.schema(), struct.getWithoutDefault(f.name())));
        }
        return "{" + String.join(",", items) + "}";
      }
      default:
        return untyped(v);
    }
  }

  static String untyped(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Float) {
      return "f:" + Integer.toHexString(Float.floatToRawIntBits((Float) v));
    }
    if (v instanceof Double) {
      return "d:" + Long.toHexString(Double.doubleToRawLongBits((Double) v));
    }
    if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
      return Long.toString(((Number) v).longValue());
    }
    if (v instanceof BigDecimal) {
      BigDecimal d = (BigDecimal) v;
      return "dec(" + d.unscaledValue() + "," + d.scale() + ")";
    }
    if (v instanceof Boolean) {
      return v.toString();
    }
    if (v instanceof String) {
      return string((String) v);
    }
    if (v instanceof byte[]) {
      return hex((byte[]) v);
    }
    if (v instanceof ByteBuffer) {
      ByteBuffer buffer = ((ByteBuffer) v).duplicate();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return hex(bytes);
    }
    if (v instanceof List) {
      List<String> items = new ArrayList<>();
      for (Object item : (List<?>) v) {
        items.add(untyped(item));
      }
      return "[" + String.join(",", items) + "]";
    }
    if (v instanceof Map) {
      TreeMap<String, String> entries = new TreeMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        entries.put(untyped(e.getKey()), untyped(e.getValue()));
      }
      List<String> items = new ArrayList<>();
      entries.forEach((k, x) -> items.add(k + ":" + x));
      return "{" + String.join(",", items) + "}";
    }
    return "?" + v.getClass().getSimpleName() + ":" + string(v.toString());
  }

  static String hex(byte[] bytes) {
    StringBuilder b = new StringBuilder("0x");
    for (byte x : bytes) {
      b.append(String.format("%02x", x));
    }
    return b.toString();
  }

  static String string(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        b.append(c);
      } else {
        b.append(String.format("\\u%04x", (int) c));
      }
    }
    return b.append('"').toString();
  }
}
