package sparkrun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

// DoctorSession is what Doctor asks a Spark Connect session
// (sparkconnect.Client has these methods).
type DoctorSession interface {
	Version(ctx context.Context) (string, error)
	CreateStreamView(ctx context.Context, name, format string, options map[string]string) error
	SQL(ctx context.Context, query string) ([]map[string]any, error)
}

// TestedSparkVersion is the Spark release the Spark engine is tested with.
const TestedSparkVersion = "4.2"

// Doctor checks the Spark side of the Spark engine: the server answers
// (dialErr is the dial's error, if any), its version, that Kafka's
// connector is on its classpath (a streaming view over topic on brokers
// resolves), and, when checkpoint is set, that it can write there (a small
// directory written under it). It changes nothing else.
func Doctor(ctx context.Context, s DoctorSession, dialErr error, remote string, brokers []string, topic, checkpoint string) []kafka.Finding {
	reach := kafka.Finding{Check: "spark reachable"}
	const fix = "start a Spark Connect server (sbin/start-connect-server.sh with the Kafka connector, or scripts/spark.sh start DIR here) and pass its sc://HOST:PORT (port 15002 by default)"
	if dialErr != nil {
		reach.Status, reach.Detail, reach.Fix = kafka.Fail, fmt.Sprintf("%s: %v", remote, dialErr), fix
		return []kafka.Finding{reach}
	}
	v, err := s.Version(ctx)
	if err != nil {
		reach.Status, reach.Detail, reach.Fix = kafka.Fail, fmt.Sprintf("%s: %v", remote, err), fix
		return []kafka.Finding{reach}
	}
	reach.Status, reach.Detail = kafka.OK, fmt.Sprintf("%s answers: Spark %s", remote, v)
	out := []kafka.Finding{reach}

	ver := kafka.Finding{Check: "spark version", Status: kafka.OK, Detail: "Spark " + v}
	if !strings.HasPrefix(v, TestedSparkVersion+".") && v != TestedSparkVersion {
		ver.Status = kafka.Warn
		ver.Detail = fmt.Sprintf("Spark %s; the Spark engine is tested with %s", v, TestedSparkVersion)
		ver.Fix = "run Spark " + TestedSparkVersion + " with org.apache.spark:spark-sql-kafka-0-10_2.13 of the same version"
	}
	out = append(out, ver)

	conn := kafka.Finding{Check: "spark kafka connector"}
	err = s.CreateStreamView(ctx, "gamepulse_doctor_kafka", "kafka", map[string]string{
		"kafka.bootstrap.servers": strings.Join(brokers, ","), "subscribe": topic})
	if err != nil {
		conn.Status, conn.Detail = kafka.Fail, "a streaming read of Kafka does not resolve: "+firstLine(err.Error())
		conn.Fix = "put org.apache.spark:spark-sql-kafka-0-10_2.13:" + TestedSparkVersion + ".0 and its dependencies on the server's classpath (--jars or --packages)"
	} else {
		conn.Status, conn.Detail = kafka.OK, "Spark's Kafka source resolves (topic "+topic+")"
	}
	out = append(out, conn)

	if checkpoint == "" {
		return out
	}
	cp := kafka.Finding{Check: "spark checkpoint location"}
	probe := strings.TrimRight(checkpoint, "/") + "/_gamepulse_doctor"
	q := fmt.Sprintf("INSERT OVERWRITE DIRECTORY '%s' USING json SELECT %d AS written_at", strings.ReplaceAll(probe, "'", "\\'"), time.Now().Unix())
	if _, err := s.SQL(ctx, q); err != nil {
		cp.Status, cp.Detail = kafka.Fail, fmt.Sprintf("the Spark server cannot write under %s: %s", checkpoint, firstLine(err.Error()))
		cp.Fix = "give the Spark server write access there, or pass a --spark-checkpoint it can write (a path on its file system, or an hdfs:// or s3a:// URI it is configured for)"
	} else {
		cp.Status, cp.Detail = kafka.OK, "the Spark server wrote "+probe
	}
	return append(out, cp)
}
