/**
 * The input keys that Timeloop v3.0.3 (commit 6b41058) reads only in their
 * hyphenated spelling, while Timeloop v4 / master, timeloopfe and the
 * golden vectors write them with underscores. Both spellings mean the same
 * key to expt's importers; the v3 export and the oracle fuzzer rename
 * exactly these before v3.0.3 reads a file.
 *
 * The list is v3.0.3's parsers (buffer, arithmetic, network and problem
 * shape) intersected with master's hyphen-to-underscore table: a key that
 * v3.0.3 reads with an underscore (`read_bandwidth`, `network_fill_latency`,
 * `datawidth`, `block_size`, `metadata_word_bits`...) must not be renamed,
 * and `energy-per-ingress` stays hyphenated in both versions.
 */

/** Component attributes (storage, arithmetic, networks). */
export const V3_HYPHENATED_ATTRIBUTES: readonly string[] = [
  'word_bits',
  'cluster_size',
  'multiple_buffering',
  'min_utilization',
  'num_ports',
  'num_banks',
  'vector_access_energy',
  'addr_gen_energy',
  'cluster_area',
  'network_word_bits',
  'network_type',
  'tile_width',
  'router_energy',
  'wire_energy',
  'energy_per_hop',
  'adder_energy',
];

/** Keys of the problem's `shape` (and of each of its data spaces). */
export const V3_HYPHENATED_PROBLEM_KEYS: readonly string[] = ['data_spaces', 'read_write'];

export function hyphenated(key: string): string {
  return key.replace(/_/g, '-');
}
