// The package ships no types; this is the prom2json-style shape it returns.
declare module "parse-prometheus-text-format" {
  export interface PromSampleOut {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PromFamilyOut {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: PromSampleOut[];
  }
  export default function parsePrometheusTextFormat(text: string): PromFamilyOut[];
}
