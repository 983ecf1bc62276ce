/**
 * Design-space sweeps of the study (issue 5, items 7 and 8), as a library
 * the pipeline can call: the HW-DSE configs and their architecture variants
 * (hwdse.ts), the study's and the correct aggregation (aggregate.ts), the
 * study's table formats (table.ts), a Pareto SVG (svg.ts), the comparison
 * with the 2024-05-08 table (hwdse-report.ts), and the cross-architecture
 * study (cross-arch.ts).
 */
export * from './hwdse.ts';
export * from './aggregate.ts';
export * from './table.ts';
export * from './svg.ts';
export * from './hwdse-report.ts';
export * from './cross-arch.ts';
