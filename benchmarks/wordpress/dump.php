<?php
/**
 * Print WordPress's own view of the blog as JSON: the ground truth of the check.
 *
 * Run by wpcheck.py with php-cli: php dump.php HOST CONFIG_NAME
 * Everything comes from WordPress's database through its API (permalinks, shortlinks,
 * archive links, rendered titles), never from the generator's spec.
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
[ , $host, $config_name ] = $argv;
$_SERVER['WORDPRESS_CONFIG'] = $config_name;
$_SERVER['HTTP_HOST']        = $host;
$_SERVER['SERVER_NAME']      = '127.0.0.1';
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['REQUEST_METHOD']   = 'GET';

require '/usr/share/wordpress/wp-load.php';

global $wpdb;

$rows = $wpdb->get_results(
	"SELECT ID, post_type, post_status, post_title, post_date, post_date_gmt, post_author,
	        post_parent, post_name, post_content
	   FROM {$wpdb->posts}
	  WHERE post_type IN ('post', 'page', 'attachment')
	  ORDER BY ID"
);
$posts = [];
foreach ( $rows as $r ) {
	$author = get_userdata( (int) $r->post_author );
	$entry  = [
		'id'           => (int) $r->ID,
		'type'         => $r->post_type,
		'status'       => $r->post_status,
		'title_raw'    => $r->post_title,
		// What a reader sees: the_title filters (wptexturize, entities).
		'title'        => get_the_title( (int) $r->ID ),
		'date'         => $r->post_date,
		'date_gmt'     => $r->post_date_gmt,
		'author'       => $author ? $author->display_name : null,
		'parent'       => (int) $r->post_parent,
		'slug'         => $r->post_name,
		'pages'        => substr_count( $r->post_content, '<!--nextpage-->' ) + 1,
		'has_sections' => (bool) preg_match( '/<h[23][ >]/', $r->post_content ),
		// The text names a year: a date a naive extractor may take for the publication date.
		'names_a_year' => (bool) preg_match( '/\b(?:19|20)\d\d\b/', wp_strip_all_tags( $r->post_content ) ),
	];
	if ( 'post' === $r->post_type ) {
		$entry['categories'] = wp_list_pluck( get_the_category( (int) $r->ID ), 'name' );
		$entry['tags']       = wp_list_pluck( get_the_tags( (int) $r->ID ) ?: [], 'name' );
	}
	// The body's own headings, in order. A post split with <!--nextpage--> is one record:
	// the headings and paragraphs of all its pages belong to it.
	$whole = str_replace( '<!--nextpage-->', "\n\n", $r->post_content );
	preg_match_all( '/<h([2-6])[^>]*>(.*?)<\/h\1>/s', $whole, $m, PREG_SET_ORDER );
	// Its paragraphs and preformatted blocks, as the reader sees them (wpautop for classic posts).
	$html = has_blocks( $whole ) ? $whole : wpautop( $whole );
	preg_match_all( '/<(p|pre)[^>]*>(.*?)<\/\1>/s', $html, $pm, PREG_SET_ORDER );
	$entry['paragraphs'] = array_values( array_filter( array_map(
		fn( $x ) => trim( html_entity_decode( wp_strip_all_tags( $x[2] ) ) ),
		$pm
	) ) );
	$entry['headings'] = array_map( fn( $h ) => [ (int) $h[1], html_entity_decode( wp_strip_all_tags( $h[2] ) ) ], $m );
	// Unpublished posts have no public permalink; their ?p=ID is what could leak.
	// The featured image as the theme shows it at the post's head (null where none).
	$entry['featured'] = has_post_thumbnail( (int) $r->ID )
		? wp_get_attachment_image_url( get_post_thumbnail_id( (int) $r->ID ), 'post-thumbnail' )
		: null;
	$entry['permalink'] = get_permalink( (int) $r->ID );
	$entry['shortlink'] = wp_get_shortlink( (int) $r->ID, 'post', false );
	$posts[]            = $entry;
}

$terms = [];
foreach ( [ 'category', 'post_tag' ] as $tax ) {
	foreach ( get_terms( [ 'taxonomy' => $tax, 'hide_empty' => false ] ) as $t ) {
		$terms[] = [
			'taxonomy' => $tax,
			'id'       => $t->term_id,
			'name'     => $t->name,
			'count'    => $t->count,
			'link'     => get_term_link( $t ),
		];
	}
}

$authors = [];
foreach ( get_users() as $u ) {
	$authors[] = [
		'id'           => $u->ID,
		'display_name' => $u->display_name,
		'link'         => get_author_posts_url( $u->ID ),
	];
}

$dates = $wpdb->get_results(
	"SELECT DISTINCT YEAR(post_date) AS y, MONTH(post_date) AS m, DAYOFMONTH(post_date) AS d
	   FROM {$wpdb->posts} WHERE post_type = 'post' AND post_status = 'publish'"
);
$archives = [ 'year' => [], 'month' => [], 'day' => [] ];
foreach ( $dates as $d ) {
	$archives['year'][]  = get_year_link( $d->y );
	$archives['month'][] = get_month_link( $d->y, $d->m );
	$archives['day'][]   = get_day_link( $d->y, $d->m, $d->d );
}
foreach ( $archives as $k => $links ) {
	$archives[ $k ] = array_values( array_unique( $links ) );
}

// What the Recent Posts widget lists: the newest published posts, sticky or not.
$widget = get_option( 'widget_recent-posts' )[2] ?? [ 'number' => 5 ];
$recent = array_map(
	'get_permalink',
	get_posts( [
		'numberposts'         => (int) $widget['number'],
		'post_status'         => 'publish',
		'ignore_sticky_posts' => true,
	] )
);

echo json_encode( [
	'home'           => home_url( '/' ),
	'wp_version'     => get_bloginfo( 'version' ),
	'theme'          => get_stylesheet(),
	'timezone'       => wp_timezone_string(),
	'posts_per_page' => (int) get_option( 'posts_per_page' ),
	'posts'          => $posts,
	'terms'          => $terms,
	'authors'        => $authors,
	'archives'       => $archives,
	'recent_posts'   => $recent,
	'sidebars'       => get_option( 'sidebars_widgets' ),
], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT ), "\n";
