package kq;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * The canonical form of a Connect schema and value, shared by the oracles
 * (sink/src/connect/canonical.rs renders the sink's side the same way):
 *   schema: int8 int16 int32 int64 float double boolean string bytes, array<S>, map<K,V>,
 *     struct{name:S,...}; then "?" if optional, "@name" if named, "#version", "(k=v,...)" for
 *     parameters (sorted), "=VALUE" for a default. A null schema is "-".
 *   value: null; integers in decimal; float and double as "f:"/"d:" and their IEEE bits in hex;
 *     true/false; strings quoted, every char outside printable ASCII (and " and \) as \\uXXXX
 *     of its UTF-16 code units; bytes as 0x and hex; Decimal as dec(unscaled,scale); Date, Time
 *     and Timestamp as ms(millis since the epoch); arrays [a,b]; maps {k:v,...} sorted by the
 *     rendered key; structs {name=v,...} in field order. Without a schema, values are rendered
 *     by their Java class the same way (a map or a list as above).
 */
public final class Canonical {
  /** Struct fields as a decoder returns them: a null field reads as its default. */
  public static final Canonical DECODED = new Canonical(true);
  /** Struct fields as a transform left them, without their defaults. */
  public static final Canonical TRANSFORMED = new Canonical(false);

  private final boolean fieldDefaults;

  private Canonical(boolean fieldDefaults) {
    this.fieldDefaults = fieldDefaults;
  }

  public String schema(Schema s) {
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

  public String value(Schema s, Object v) {
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
          Object field = fieldDefaults ? struct.get(f) : struct.getWithoutDefault(f.name());
          items.add(string(f.name()) + "=" + value(f.schema(), field));
        }
        return "{" + String.join(",", items) + "}";
      }
      default:
        return untyped(v);
    }
  }

  public static String untyped(Object v) {
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

  public static String hex(byte[] bytes) {
    StringBuilder b = new StringBuilder("0x");
    for (byte x : bytes) {
      b.append(String.format("%02x", x));
    }
    return b.toString();
  }

  public static String string(String s) {
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
