package sparkconnect

import "context"

// CreateDedupView registers a temporary view (replacing one of that name)
// that is the view input with dropDuplicatesWithinWatermark(columns): a
// row whose columns equal an earlier row's within the input's watermark
// delay is dropped. Spark SQL has no clause for it; this is Spark
// Connect's Deduplicate relation with within_watermark set.
func (c *Client) CreateDedupView(ctx context.Context, name, input string, columns []string) error {
	return c.createView(ctx, name, map[string]any{"deduplicate": map[string]any{
		"input":       map[string]any{"read": map[string]any{"namedTable": map[string]any{"unparsedIdentifier": input}}},
		"columnNames": columns, "withinWatermark": true}})
}
