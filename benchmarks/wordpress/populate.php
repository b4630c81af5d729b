<?php
/**
 * Install WordPress and fill it with the generated blog, through WordPress's own API.
 *
 * Run by wpcheck.py with php-cli: php populate.php SPEC.json IMAGES_DIR HOST CONFIG_NAME
 * The database must exist and be empty. Everything here is deterministic given the
 * spec (fixed dates, no "now"), so a rebuild gives the same posts, slugs and URLs;
 * only auto-increment IDs follow insertion order, which is also fixed.
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
[ , $spec_path, $images_dir, $host, $config_name ] = $argv;
$spec = json_decode( file_get_contents( $spec_path ), true, 512, JSON_THROW_ON_ERROR );

// Debian's wp-config.php picks /etc/wordpress/config-$WORDPRESS_CONFIG.php.
$_SERVER['WORDPRESS_CONFIG'] = $config_name;
$_SERVER['HTTP_HOST']        = $host;
$_SERVER['SERVER_NAME']      = '127.0.0.1';
$_SERVER['REQUEST_URI']      = '/';
$_SERVER['REQUEST_METHOD']   = 'GET';
define( 'WP_INSTALLING', true );

// No mail leaves this machine (install notification, comment notices).
function wp_mail() {
	return true;
}

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
require_once ABSPATH . 'wp-admin/includes/post.php';
require_once ABSPATH . 'wp-admin/includes/taxonomy.php';
require_once ABSPATH . 'wp-admin/includes/nav-menu.php';

function fail( $what ) {
	fwrite( STDERR, "populate.php: $what\n" );
	exit( 1 );
}

function check( $result, $what ) {
	if ( is_wp_error( $result ) || ! $result ) {
		fail( $what . ': ' . ( is_wp_error( $result ) ? $result->get_error_message() : 'failed' ) );
	}
	return $result;
}

$site  = $spec['site'];
$users = $spec['users'];
$admin = $users[0];

$installed = wp_install( $site['title'], $admin['login'], $admin['email'], true, '', 'wpcheck-' . $admin['login'] );
check( $installed['user_id'] ?? 0, 'wp_install' );

// The sample content wp_install_defaults() creates carries today's date: drop it.
foreach ( get_posts( [ 'post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1 ] ) as $p ) {
	wp_delete_post( $p->ID, true );
}
wp_delete_post( 3, true ); // the privacy policy draft is not returned by 'any'

update_option( 'blogdescription', $site['description'] );
update_option( 'timezone_string', $site['timezone'] );
update_option( 'gmt_offset', '' );
update_option( 'date_format', 'F j, Y' );
update_option( 'time_format', 'g:i a' );
update_option( 'posts_per_page', 10 );
update_option( 'show_on_front', 'posts' );
update_option( 'blog_public', 1 );
update_option( 'default_comment_status', 'open' );
update_option( 'thread_comments', 1 );
update_option( 'uploads_use_yearmonth_folders', 1 );
update_option( 'wp_page_for_privacy_policy', 0 );

global $wp_rewrite;
$wp_rewrite->set_permalink_structure( $site['permalink_structure'] );
$wp_rewrite->set_category_base( '' );
$wp_rewrite->set_tag_base( '' );

switch_theme( 'twentytwentyone' );
if ( get_stylesheet() !== 'twentytwentyone' ) {
	fail( 'theme twentytwentyone not active: ' . get_stylesheet() );
}

// Users: the first is the admin wp_install made.
$user_ids = [];
foreach ( $users as $u ) {
	$id = username_exists( $u['login'] );
	if ( ! $id ) {
		$id = check( wp_insert_user( [
			'user_login' => $u['login'],
			'user_pass'  => 'wpcheck-' . $u['login'],
			'user_email' => $u['email'],
			'role'       => 'author',
		] ), 'user ' . $u['login'] );
	}
	check( wp_update_user( [
		'ID'           => $id,
		'display_name' => $u['display_name'],
		'first_name'   => explode( ' ', $u['display_name'] )[0],
		'nickname'     => $u['display_name'],
		'description'  => $u['description'],
	] ), 'update user ' . $u['login'] );
	$user_ids[ $u['login'] ] = $id;
}

// Categories (parents come first in the spec) and tags.
$cat_ids = [];
foreach ( $spec['categories'] as $c ) {
	$args = [ 'slug' => $c['slug'] ];
	if ( $c['parent'] ) {
		$args['parent'] = $cat_ids[ $c['parent'] ];
	}
	$term                   = check( wp_insert_term( $c['name'], 'category', $args ), 'category ' . $c['slug'] );
	$cat_ids[ $c['slug'] ] = $term['term_id'];
}
foreach ( $spec['tags'] as $t ) {
	check( wp_insert_term( $t, 'post_tag' ), 'tag ' . $t );
}

function gmt( $local ) {
	return get_gmt_from_date( $local );
}

// Posts, in spec order (IDs follow it).
$post_ids = [];
foreach ( $spec['posts'] as $p ) {
	$args = [
		'post_type'      => 'post',
		'post_title'     => $p['title'],
		'post_content'   => $p['content'],
		'post_status'    => $p['status'],
		'post_author'    => $user_ids[ $p['author'] ],
		'post_category'  => array_map( fn( $s ) => $cat_ids[ $s ], $p['categories'] ),
		'tags_input'     => $p['tags'],
		'comment_status' => 'open',
	];
	if ( $p['date'] ) {
		$args['post_date']     = $p['date'];
		$args['post_date_gmt'] = gmt( $p['date'] );
		$args['post_modified'] = $p['date'];
	}
	$id = check( wp_insert_post( wp_slash( $args ), true ), 'post ' . $p['key'] );
	$post_ids[ $p['key'] ] = $id;
	if ( $p['sticky'] ) {
		stick_post( $id );
	}
	if ( $p['image'] ) {
		$bits   = file_get_contents( $images_dir . '/' . $p['image'] );
		$upload = wp_upload_bits( $p['image'], null, $bits, substr( $p['date'], 0, 4 ) . '/' . substr( $p['date'], 5, 2 ) );
		if ( $upload['error'] ) {
			fail( 'upload ' . $p['image'] . ': ' . $upload['error'] );
		}
		$att_title = 'Photo for ' . preg_replace( '/\s*\(\d+\)$/', '', $p['title'] );
		$att_id    = check( wp_insert_attachment( wp_slash( [
			'post_mime_type' => 'image/png',
			'post_title'     => $att_title,
			'post_content'   => 'A picture taken that day.',
			'post_excerpt'   => 'Caption: ' . $att_title,
			'post_status'    => 'inherit',
			'post_author'    => $user_ids[ $p['author'] ],
			'post_date'      => $p['date'],
			'post_date_gmt'  => gmt( $p['date'] ),
		] ), $upload['file'], $id, true ), 'attachment ' . $p['image'] );
		wp_update_attachment_metadata( $att_id, wp_generate_attachment_metadata( $att_id, $upload['file'] ) );
		update_post_meta( $att_id, '_wp_attachment_image_alt', 'Alt text for ' . $p['image'] );
		$figure = sprintf(
			'<figure class="wp-block-image size-full"><a href="%s"><img src="%s" alt="%s" class="wp-image-%d"/></a><figcaption>%s</figcaption></figure>',
			esc_url( get_attachment_link( $att_id ) ),
			esc_url( $upload['url'] ),
			esc_attr( 'Alt text for ' . $p['image'] ),
			$att_id,
			esc_html( 'Caption: ' . $att_title )
		);
		check( wp_update_post( wp_slash( [
			'ID'            => $id,
			'post_content'  => str_replace( '{{IMAGE}}', $figure, $p['content'] ),
			'post_modified' => $p['date'],
		] ), true ), 'update post ' . $p['key'] );
		if ( $p['featured'] ) {
			set_post_thumbnail( $id, $att_id );
		}
	}
	$comment_ids = [];
	foreach ( $p['comments'] as $n => $c ) {
		$when            = date( 'Y-m-d H:i:s', strtotime( $p['date'] ) + 86400 * $c['day_offset'] );
		$comment_ids[ $n ] = check( wp_insert_comment( wp_slash( [
			'comment_post_ID'      => $id,
			'comment_author'       => $c['author'],
			'comment_author_email' => $c['email'],
			'comment_content'      => $c['content'],
			'comment_date'         => $when,
			'comment_date_gmt'     => gmt( $when ),
			'comment_approved'     => $c['approved'] ? 1 : 0,
			'comment_parent'       => null === $c['parent'] ? 0 : $comment_ids[ $c['parent'] ],
		] ) ), 'comment on ' . $p['key'] );
	}
}

// Static pages, a sub-page under "The Team"; dated, like real pages, but no theme shows it.
$page_ids = [];
foreach ( $spec['pages'] as $n => $pg ) {
	$date = sprintf( '2009-01-%02d 12:00:00', 2 + $n );
	$page_ids[ $pg['key'] ] = check( wp_insert_post( wp_slash( [
		'post_type'     => 'page',
		'post_title'    => $pg['title'],
		'post_content'  => $pg['content'],
		'post_status'   => 'publish',
		'post_author'   => $user_ids[ $admin['login'] ],
		'post_parent'   => $pg['parent'] ? $page_ids[ $pg['parent'] ] : 0,
		'menu_order'    => $pg['order'],
		'post_date'     => $date,
		'post_date_gmt' => gmt( $date ),
	] ), true ), 'page ' . $pg['key'] );
}

// The primary menu: pages and one category, as a real header has them.
$menu_id = check( wp_create_nav_menu( 'Primary' ), 'menu' );
foreach ( [ 'about', 'team', 'contact' ] as $n => $key ) {
	check( wp_update_nav_menu_item( $menu_id, 0, [
		'menu-item-object-id' => $page_ids[ $key ],
		'menu-item-object'    => 'page',
		'menu-item-type'      => 'post_type',
		'menu-item-status'    => 'publish',
		'menu-item-position'  => $n + 1,
	] ), 'menu item ' . $key );
}
check( wp_update_nav_menu_item( $menu_id, 0, [
	'menu-item-object-id' => $cat_ids['travel'],
	'menu-item-object'    => 'category',
	'menu-item-type'      => 'taxonomy',
	'menu-item-status'    => 'publish',
	'menu-item-position'  => 4,
] ), 'menu item travel' );
set_theme_mod( 'nav_menu_locations', [ 'primary' => $menu_id ] );

// Classic widgets in the theme's widget area (Twenty Twenty-One shows sidebar-1 in
// the footer). WordPress 5.5+ wraps the list widgets in <nav aria-label=...>.
$widgets = [
	'search'          => [ 'title' => '' ],
	'recent-posts'    => [ 'title' => 'Recent Posts', 'number' => 5, 'show_date' => true ],
	'recent-comments' => [ 'title' => 'Recent Comments', 'number' => 5 ],
	'archives'        => [ 'title' => 'Archives', 'count' => 1, 'dropdown' => 0 ],
	'categories'      => [ 'title' => 'Categories', 'count' => 1, 'hierarchical' => 1, 'dropdown' => 0 ],
	'tag_cloud'       => [ 'title' => 'Tags', 'taxonomy' => 'post_tag', 'count' => 0 ],
	'pages'           => [ 'title' => 'Pages', 'sortby' => 'menu_order', 'exclude' => '' ],
	'calendar'        => [ 'title' => 'Calendar' ],
	'meta'            => [ 'title' => 'Meta' ],
];
$sidebar = [];
foreach ( $widgets as $base => $settings ) {
	update_option( 'widget_' . $base, [ 2 => $settings, '_multiwidget' => 1 ] );
	$sidebar[] = $base . '-2';
}
update_option( 'widget_block', [ '_multiwidget' => 1 ] );
update_option( 'sidebars_widgets', [
	'wp_inactive_widgets' => [],
	'sidebar-1'           => $sidebar,
	'array_version'       => 3,
] );
// Keep the classic widgets screen (no block editor for widgets), as the blog was set up.
update_option( 'use_widgets_block_editor', 0 );

flush_rewrite_rules( false );

echo json_encode( [
	'posts' => count( $post_ids ),
	'pages' => count( $page_ids ),
	'theme' => get_stylesheet(),
] ), "\n";
