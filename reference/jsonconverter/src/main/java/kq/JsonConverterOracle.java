package kq;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;

/**
 * Kafka's JsonConverter as an oracle. Arguments: the value converter's settings as key=value
 * (the keys of JsonConverterConfig, e.g. schemas.enable=true). Then one request per stdin line:
 * base64 of a record value, or "-" for a null value (a tombstone). One answer per line on stdout:
 * "SCHEMA = VALUE" in the canonical form below, or "ERROR <exception class>: <message>".
 * It exits when stdin closes, so it never outlives the process that started it.
 *
 * The canonical form is reference/canonical's (Canonical.DECODED).
 */
public final class JsonConverterOracle {
  public static void main(String[] args) throws Exception {
    Map<String, Object> config = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      config.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    JsonConverter converter = new JsonConverter();
    converter.configure(config, false);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      byte[] value = line.equals("-") ? null : Base64.getDecoder().decode(line.trim());
      String answer;
      try {
        SchemaAndValue result = converter.toConnectData("oracle", value);
        answer = Canonical.DECODED.schema(result.schema()) + " = "
            + Canonical.DECODED.value(result.schema(), result.value());
      } catch (Exception e) {
        String message = String.valueOf(e.getMessage()).replace('\n', ' ').replace('\r', ' ');
        answer = "ERROR " + e.getClass().getSimpleName() + ": " + message;
      }
      out.write(answer);
      out.write('\n');
      out.flush();
    }
  }
}
